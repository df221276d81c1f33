#include "http/api_views.hpp"

#include "concurrency/epoch.hpp"

#include "http/api_error.hpp"

#include <edge/plugin.hpp>
#include <edge/plugin_store.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>

namespace edge::http {
namespace {

// A plugin deployed from the plugin directory reads as its name, which PUT
// accepts back; any other file as its path.
std::string plugin_label(const std::filesystem::path& plugin_dir,
                         const std::filesystem::path& plugin) {
  if (plugin.empty()) return {};
  if (plugin.parent_path() == plugin_dir.lexically_normal() && plugin.extension() == ".so") {
    return plugin.stem().string();
  }
  return plugin.string();
}

}  // namespace

HttpResponse json_response(int status, const nlohmann::json& body) {
  HttpResponse response;
  response.status = status;
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

nlohmann::json function_view(EdgeCluster& cluster, const std::filesystem::path& plugin_dir,
                             std::string_view function_id, bool detailed) {
  const std::optional<EdgeFunction> function = cluster.function(function_id);
  if (!function) not_found("unknown function " + in_quotes(function_id));
  const std::optional<Placement> placement = cluster.placement(function_id);
  const std::vector<std::string> nodes = cluster.nodes_running(function_id);

  std::uint64_t invocations = 0;
  std::uint64_t errors = 0;
  std::uint64_t cold_starts = 0;
  nlohmann::json stats = nlohmann::json::object();
  nlohmann::json quarantine;
  nlohmann::json rejected;  // a replacement refused while the old version serves
  // The cluster reads every node's stats under its lock: a node deregistered
  // meanwhile cannot vanish under the read.
  for (const auto& [node_id, node_stats] : cluster.function_stats(function_id)) {
    invocations += node_stats.invocations;
    errors += node_stats.errors;
    cold_starts += node_stats.cold_starts;
    if (detailed) stats[node_id] = node_stats.to_json();
    if (!node_stats.rejected_replacement_sha256.empty() && rejected.is_null()) {
      rejected = {{"sha256", node_stats.rejected_replacement_sha256},
                  {"reason", node_stats.rejected_replacement_reason}};
    }
    if (node_stats.quarantined && quarantine.is_null()) {
      quarantine = {{"sha256", node_stats.quarantine_sha256},
                    {"reason", node_stats.quarantine_reason}};
    }
  }

  nlohmann::json view{
      {"id", function->id},
      {"name", function->name},
      {"plugin", plugin_label(plugin_dir, function->plugin)},
      {"sha256", function->plugin_sha256},
      {"placement", placement ? to_string(*placement) : to_string(Placement::All)},
      {"nodes", nodes},
      {"pending", nodes.empty()},
      {"memory_mb", function->memory_mb},
      {"timeout_seconds", function->timeout_seconds},
      {"max_in_flight", function->max_in_flight},
      {"isolation", to_string(function->isolation)},
      {"max_workers", function->max_workers},
      {"idempotent", function->idempotent},
      {"required_capabilities", function->required_capabilities},
      {"environment", function->environment},
      {"invocations", invocations},
      {"errors", errors},
      {"cold_starts", cold_starts},
  };
  if (detailed) {
    view["stats"] = std::move(stats);
    view["plugin_info"] = nullptr;
    if (!function->plugin.empty()) {
      try {
        // Through the store when there is one: its security policy applies
        // before the library is opened (opening runs its constructors).
        const std::shared_ptr<PluginStore>& store = cluster.plugin_store();
        view["plugin_info"] =
            (store ? store->inspect(function->plugin) : inspect_plugin(function->plugin)).to_json();
      } catch (const std::exception& error) {
        // The file changed or vanished since the deploy; say so, do not fail.
        view["plugin_info_error"] = error.what();
      }
    }
    if (!quarantine.is_null()) view["quarantine"] = std::move(quarantine);
    if (!rejected.is_null()) view["rejected_replacement"] = std::move(rejected);
  }
  return view;
}

nlohmann::json node_view(EdgeCluster& cluster, std::string_view node_id, bool detailed) {
  const std::optional<EdgeNode> node = cluster.node(node_id);
  if (!node) not_found("unknown node " + in_quotes(node_id));
  nlohmann::json view = node->to_json();
  view["functions"] = cluster.functions_on(node_id);
  // A concurrent DELETE may deregister the node: its entry (and runtime) is
  // freed through epoch-based reclamation, so the guard keeps it alive here.
  // Only a node in this process has a runtime to summarise.
  concurrency::EpochGuard guard;
  EdgeRuntime* runtime = cluster.runtime(node_id);
  // "remote": a node of another host, seen through the cluster over NATS.
  view["host"] = runtime != nullptr ? "local" : "remote";
  // The cluster reads a coarse clock, which may trail this one by a tick.
  view["seconds_since_heartbeat"] = std::max(
      0.0, std::chrono::duration<double>(std::chrono::steady_clock::now() - node->last_heartbeat)
               .count());
  if (detailed && runtime != nullptr) view["summary"] = runtime->summary().to_json();
  return view;
}

}  // namespace edge::http
