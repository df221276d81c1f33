// LocalNode: a node whose functions run in this process, in an EdgeRuntime
// it owns. What EdgeCluster makes for register_node(EdgeNode).
//
// Thread-safety: as EdgeRuntime (every call from any thread at once).
// Lifetime: the runtime lives as long as the LocalNode; the cluster frees it
// only once no call can still be running on it (epoch-based reclamation).
#pragma once

#include <edge/node_backend.hpp>
#include <edge/runtime.hpp>

#include <memory>

namespace edge {

class PluginStore;
class Sandbox;

class LocalNode final : public NodeBackend {
 public:
  LocalNode(EdgeNode node, std::shared_ptr<PluginStore> plugin_store,
            std::shared_ptr<Sandbox> sandbox);

  void update_node(const EdgeNode& node) override;
  // The cluster validated the definition (plugin file included) when it was
  // given; placing it again later must not fail because the file has gone
  // since (PluginFileCheck::Deferred): the copy's cold start reports it.
  void deploy(const EdgeFunction& function) override;
  void undeploy(std::string_view function_id) override;

  bool has_function(std::string_view function_id) const override;
  std::size_t function_count() const override;
  std::vector<std::string> function_ids() const override;
  FunctionStats function_stats(std::string_view function_id) const override;
  std::uint64_t total_invocations() const override;
  std::uint64_t cold_start_count() const override;
  std::int64_t in_flight() const override;

  EdgeRuntime::CallResult invoke(std::string_view function_id, std::string_view input) override;

  EdgeRuntime* local_runtime() noexcept override { return &runtime_; }

 private:
  EdgeRuntime runtime_;
};

}  // namespace edge
