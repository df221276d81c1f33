// RemoteNode: a node of another edge-host, as the controller's EdgeCluster
// sees it (a NodeBackend, edge/node_backend.hpp).
//
// What runs there is what the controller placed: deploy and undeploy queue
// writes of the node's desired-state keys (DesiredStateWriter) and take
// effect in this view at once, so placement counts them as a local node's.
// How the copies are doing (fetching, verified, failed, their counters) is
// what the node last reported in its inventory. A call is one NATS request
// to the node's host, with the function's timeout as its deadline.
//
// Thread-safety: every method may be called from any thread at once.
// Lifetime: the NatsClient, writer and catalogue must outlive it.
#pragma once

#include "fleet/artifact_catalog.hpp"
#include "fleet/desired_state_writer.hpp"
#include "fleet/protocol.hpp"
#include "fleet/subjects.hpp"
#include "nats/nats_client.hpp"

#include <edge/cluster.hpp>
#include <edge/node_backend.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace edge::fleet {

// What the controller and a node's RemoteNode share: the latest inventory.
// Owned jointly, so that a node deregistered by the API (which frees its
// backend) never leaves the controller with a dangling pointer.
class RemoteNodeState {
 public:
  explicit RemoteNodeState(std::string node_id) : node_id_(std::move(node_id)) {}
  const std::string& node_id() const noexcept { return node_id_; }

  // Records the node's latest inventory. A copy it reports Failed is also
  // remembered as a sync failure of that content (see sync_failure).
  void set_inventory(Inventory inventory);
  std::optional<InventoryEntry> entry(std::string_view function_id) const;
  std::optional<Inventory> inventory() const;

  // Why this content of the function failed to sync here, if it did within
  // kSyncFailureMemory. Remembered beyond the inventory: a node drops a
  // failed copy once it is placed elsewhere, and placement must not hand
  // the same content straight back to it (two failing nodes would trade the
  // function forever). Forgotten after a while, so that a transient cause
  // (a holder that hung) does not keep the node out for good.
  std::optional<std::string> sync_failure(std::string_view function_id,
                                          std::string_view sha256) const;
  static constexpr std::chrono::seconds kSyncFailureMemory{60};

 private:
  struct Failure {
    std::string sha256;
    std::string error;
    std::chrono::steady_clock::time_point when;
  };
  const std::string node_id_;
  mutable std::mutex mutex_;
  std::optional<Inventory> inventory_;
  std::map<std::string, InventoryEntry, std::less<>> entries_;
  std::map<std::string, Failure, std::less<>> failures_;  // by function id
};

struct RemoteNodeContext {
  nats::NatsClient& client;
  const Subjects& subjects;
  DesiredStateWriter& writer;
  ArtifactCatalog& catalog;
  // How the function is placed now (for the desired state's "placement").
  std::function<Placement(std::string_view function_id)> placement_of;
};

class RemoteNode final : public NodeBackend {
 public:
  RemoteNode(const RemoteNodeContext& context, std::shared_ptr<RemoteNodeState> state);

  void update_node(const EdgeNode& node) override;
  void deploy(const EdgeFunction& function) override;
  void undeploy(std::string_view function_id) override;
  bool has_function(std::string_view function_id) const override;
  std::size_t function_count() const override;
  std::vector<std::string> function_ids() const override;
  FunctionStats function_stats(std::string_view function_id) const override;
  std::uint64_t total_invocations() const override;
  std::uint64_t cold_start_count() const override;
  std::int64_t in_flight() const override;
  std::optional<std::string> refusal(std::string_view function_id) const override;
  bool serves(std::string_view function_id) const override;
  EdgeRuntime::CallResult invoke(std::string_view function_id, std::string_view input) override;

  // Restores what the desired state said before the controller restarted,
  // so that restore() finds the copies already in place and rewrites nothing.
  void adopt(const EdgeFunction& function, const std::string& sha256);

 private:
  struct Copy {
    EdgeFunction function;
    std::string sha256;
  };
  // The desired copy's function and content, if the controller placed it here.
  std::optional<Copy> copy(std::string_view function_id) const;

  RemoteNodeContext context_;
  const std::shared_ptr<RemoteNodeState> state_;
  mutable std::mutex mutex_;
  std::map<std::string, Copy, std::less<>> copies_;  // what the controller placed here
  std::atomic<std::int64_t> calls_in_flight_{0};     // this controller's calls, for drains
};

}  // namespace edge::fleet
