// NodeAgent: serves the local nodes of one edge-host in a cluster over NATS
// (docs/design/cluster-over-nats.md, "Node host"). For each node it
//  - publishes a heartbeat every interval (usage and inventory digest),
//  - answers inventory requests,
//  - answers calls (call_concurrency members of the queue group "calls", so
//    that many calls run at once, each on its subscription's thread),
//  - watches the node's desired-state keys and reconciles them
//    (desired_state_reconciler.hpp: fetch, verify, assign),
// and it serves the artifacts it holds to other hosts, each on the
// artifact's own subject (artifact_transfer.hpp).
//
// Offline autonomy: losing NATS stops none of the local functions; libnats
// reconnects, the KV watcher's ordered consumer catches up with what changed
// meanwhile, and heartbeats resume.
//
// Thread-safety: inventory() may be called from any thread; start() once.
// OWNERSHIP: borrows the client and the cluster, which must outlive the agent.
#pragma once

#include "fleet/agent_log.hpp"
#include "fleet/artifact_transfer.hpp"
#include "fleet/protocol.hpp"
#include "fleet/subjects.hpp"
#include "nats/nats_client.hpp"

#include <edge/cluster.hpp>
#include <edge/models.hpp>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge::fleet {

struct NodeAgentOptions {
  // The nodes of this host, already registered in the cluster.
  std::vector<std::string> node_ids;
  std::chrono::milliseconds heartbeat_interval{1000};
  // Verified plugins are kept here as read-only <sha256>.so files.
  std::filesystem::path artifact_dir;
  FetchOptions fetch;
  // Calls each node runs at once.
  int call_concurrency = 4;
  // May be empty (no log).
  LogSink log;
  // The machine's real figures for a node, for its heartbeats. Empty, or
  // nullopt for a node: the node's registered resources (cluster.node(id)).
  std::function<std::optional<ResourceUsage>(std::string_view node_id)> usage;
};

class NodeAgent {
 public:
  // Checks the options: std::invalid_argument naming a node id that is not
  // registered in `cluster`, an empty artifact_dir, a call_concurrency below
  // 1, a heartbeat_interval not above 0. Starts nothing.
  NodeAgent(nats::NatsClient& client, const Subjects& subjects, EdgeCluster& cluster,
            NodeAgentOptions options);
  // Stops everything (threads joined, subscriptions closed); safe while NATS
  // is down. A fetch in progress ends first (bounded by the fetch's chunk
  // timeouts).
  ~NodeAgent();
  NodeAgent(const NodeAgent&) = delete;
  NodeAgent& operator=(const NodeAgent&) = delete;

  // Opens the desired-state bucket, subscribes, starts the threads. Throws
  // NatsError (naming the bucket or subject) when NATS refuses; the agent
  // then holds nothing and may be destroyed.
  void start();

  // What the node runs and how its desired copies are doing: the node's
  // metadata (status Syncing while a copy of it is), and an entry for every
  // desired copy with its state and the runtime's stats.
  // std::invalid_argument for a node this agent does not serve.
  Inventory inventory(std::string_view node_id) const;

 private:
  struct State;  // node_agent.cpp
  std::unique_ptr<State> state_;
};

}  // namespace edge::fleet
