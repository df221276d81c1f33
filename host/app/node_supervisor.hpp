// Keeps the cluster's view of its nodes current while edge-host runs: one
// steady_timer that periodically detects stale nodes and heartbeats the
// nodes this process hosts.
//
// Thread-safety: not thread-safe; every member, and the timer's handler, runs
// on the io_context's thread. Lifetime: must outlive io_context::run() or be
// stopped first; the cluster and the log stream must outlive it.
#pragma once

#include "asio.hpp"
#include "metrics/system_usage.hpp"

#include <edge/cluster.hpp>

#include <chrono>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

namespace edge::app {

class NodeSupervisor {
 public:
  using Clock = std::chrono::steady_clock;

  // `local_nodes` are the nodes this process hosts and heartbeats for.
  // Stale detection runs every max(0.1 s, timeout / 4); heartbeats go out
  // every timeout / 3.
  NodeSupervisor(boost::asio::io_context& io, edge::EdgeCluster& cluster,
                 std::vector<std::string> local_nodes, double heartbeat_timeout_seconds,
                 std::ostream& log);
  NodeSupervisor(const NodeSupervisor&) = delete;
  NodeSupervisor& operator=(const NodeSupervisor&) = delete;

  void start();
  // The node that is this machine: its heartbeats carry the machine's real
  // CPU and memory use, so placement sees real load. Empty: none.
  void set_machine_node(std::string node_id);
  // The nodes to heartbeat from now on (after a topology reload).
  void set_local_nodes(std::vector<std::string> local_nodes);
  // Cancels the timer; the io_context then runs out of work from here.
  void stop();

 private:
  void schedule();
  void on_timer();
  void detect_stale_nodes();
  void send_heartbeats();

  boost::asio::steady_timer timer_;
  edge::EdgeCluster& cluster_;
  std::vector<std::string> local_nodes_;
  const double heartbeat_timeout_seconds_;
  const Clock::duration stale_check_period_;
  const Clock::duration heartbeat_period_;
  std::ostream& log_;
  Clock::time_point next_stale_check_;
  Clock::time_point next_heartbeat_;
  std::set<std::string> stale_nodes_;  // reported stale, not yet back
  std::string machine_node_;
  std::optional<edge::metrics::SystemUsageSampler> sampler_;  // set with machine_node_
  bool stopped_ = false;
};

}  // namespace edge::app
