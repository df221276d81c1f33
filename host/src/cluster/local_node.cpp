#include "cluster/local_node.hpp"

#include <stdexcept>
#include <utility>

namespace edge {

LocalNode::LocalNode(EdgeNode node, std::shared_ptr<PluginStore> plugin_store,
                     std::shared_ptr<Sandbox> sandbox)
    : runtime_(std::move(node), std::move(plugin_store), std::move(sandbox)) {}

void LocalNode::update_node(const EdgeNode& node) { runtime_.update_node(node); }

void LocalNode::deploy(const EdgeFunction& function) {
  runtime_.deploy(function, PluginFileCheck::Deferred);
}

void LocalNode::undeploy(std::string_view function_id) { runtime_.undeploy(function_id); }

bool LocalNode::has_function(std::string_view function_id) const {
  return runtime_.has_function(function_id);
}

std::size_t LocalNode::function_count() const { return runtime_.function_count(); }

std::vector<std::string> LocalNode::function_ids() const { return runtime_.function_ids(); }

FunctionStats LocalNode::function_stats(std::string_view function_id) const {
  // Asking first would race with an undeploy: the runtime's own answer decides.
  try {
    return runtime_.get_function_stats(function_id);
  } catch (const std::invalid_argument&) {
    FunctionStats stats;
    stats.function_id = std::string(function_id);
    return stats;
  }
}

std::uint64_t LocalNode::total_invocations() const { return runtime_.total_invocations(); }

std::uint64_t LocalNode::cold_start_count() const { return runtime_.cold_start_count(); }

std::int64_t LocalNode::in_flight() const { return runtime_.in_flight(); }

EdgeRuntime::CallResult LocalNode::invoke(std::string_view function_id, std::string_view input) {
  return runtime_.invoke_detailed(function_id, input);
}

}  // namespace edge
