// The controller: the edge-host that keeps the cluster's view
// (docs/design/cluster-over-nats.md). Nodes of other hosts join its
// EdgeCluster as RemoteNodes when their first heartbeat arrives, and from
// then on placement, drain, stale detection and health run on them as on
// local nodes; what the cluster decides becomes desired state in the
// key-value bucket, which the nodes' agents reconcile.
//
// A restarted controller rebuilds its view: it reads the desired state,
// registers nodes as they heartbeat, and only after a grace period of one
// heartbeat timeout (or as soon as every node the desired state names is
// back) re-applies its functions with EdgeCluster::restore, which keeps every
// copy where it runs. Nothing fails over because the controller was away,
// nor because it lost NATS for a while (cover_for_outage).
//
// Thread-safety: start() once; the rest may be called from any thread.
// Lifetime: the client, cluster and logger must outlive the controller.
#pragma once

#include "fleet/artifact_catalog.hpp"
#include "fleet/artifact_transfer.hpp"
#include "fleet/desired_state_writer.hpp"
#include "fleet/remote_node.hpp"
#include "fleet/subjects.hpp"
#include "log/logger.hpp"
#include "nats/kv_bucket.hpp"
#include "nats/nats_client.hpp"
#include "nats/subscription.hpp"

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace edge::fleet {

struct ControllerOptions {
  // Nodes missing this long are stale (the NodeSupervisor detects them); also
  // the grace period after a start before functions are re-applied.
  double heartbeat_timeout_seconds = 30;
  // The functions this controller places (its topology's), applied after the
  // grace period.
  std::vector<FunctionSpec> functions;
  std::chrono::milliseconds inventory_timeout{2000};
  // A node's inventory is read again when its heartbeat's digest changes
  // (what runs there, and how its copies are doing), and at least this often
  // for its counters (the API's invocations, errors, warm copies).
  std::chrono::milliseconds inventory_refresh{5000};
};

class Controller {
 public:
  Controller(nats::NatsClient& client, const Subjects& subjects, EdgeCluster& cluster,
             const log::Logger& logger, ControllerOptions options);
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Opens the desired-state bucket, reads it, and starts taking heartbeats.
  // Throws NatsError naming the bucket when JetStream is not available.
  void start();

  // The functions are applied (after the grace period); for tests and status.
  bool restored() const;
  bool wait_until_restored(std::chrono::milliseconds timeout) const;
  // Waits until every desired-state write so far has landed in the bucket.
  bool wait_until_written(std::chrono::milliseconds timeout);

  struct Counters {
    std::uint64_t heartbeats = 0;           // accepted
    std::uint64_t rejected_heartbeats = 0;  // off-protocol, or late
    std::uint64_t registrations = 0;
    std::uint64_t inventory_failures = 0;
    std::uint64_t desired_conflicts = 0;
  };
  Counters counters() const;

 private:
  struct KnownNode {
    std::string boot_id;
    std::uint64_t sequence = 0;
    std::string digest;                             // of the last inventory read
    std::chrono::steady_clock::time_point read_at;  // of the last inventory read
    bool queued = false;                            // an inventory read is queued
    std::shared_ptr<RemoteNodeState> state;         // set once registered
  };
  // What the desired state held at start, per function.
  struct DesiredFunction {
    DesiredCopy copy;
    std::vector<std::string> nodes;
  };

  void on_heartbeat(const nats::Message& message);
  void run();  // the worker: inventories, then the restore
  void read_inventory(const std::string& node_id);
  void register_from(const Inventory& inventory);
  void replace_failed_copies(const Inventory& inventory);
  void restore();
  void cover_for_outage();                                         // the worker thread only
  bool restore_due() const;                                        // under mutex_
  std::chrono::steady_clock::time_point restore_deadline() const;  // under mutex_
  Placement placement_of(std::string_view function_id) const;

  nats::NatsClient& client_;
  const Subjects& subjects_;
  EdgeCluster& cluster_;
  const log::Logger& logger_;
  const ControllerOptions options_;
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

  ArtifactCatalog catalog_;
  std::unique_ptr<nats::KeyValueBucket> bucket_;
  std::unique_ptr<DesiredStateWriter> writer_;
  std::unique_ptr<ArtifactServer> artifact_server_;

  mutable std::mutex mutex_;
  mutable std::condition_variable wake_;
  std::map<std::string, KnownNode, std::less<>> nodes_;      // guarded by mutex_
  std::deque<std::string> inventory_queue_;                  // guarded by mutex_
  std::map<std::string, DesiredFunction> desired_at_start_;  // until restored
  bool restored_ = false;                                    // guarded by mutex_
  std::chrono::steady_clock::time_point blind_until_;        // the worker thread only
  static constexpr std::chrono::milliseconds kOutageCheckPeriod{100};
  bool stopping_ = false;  // guarded by mutex_
  Counters counters_;      // guarded by mutex_

  std::thread worker_;
  nats::Subscription heartbeats_;  // last: ends first
};

}  // namespace edge::fleet
