#include "node_supervisor.hpp"

#include <stdexcept>

#include <algorithm>
#include <optional>

namespace edge::app {
namespace {

NodeSupervisor::Clock::duration seconds(double value) {
  return std::chrono::duration_cast<NodeSupervisor::Clock::duration>(
      std::chrono::duration<double>(value));
}

}  // namespace

NodeSupervisor::NodeSupervisor(boost::asio::io_context& io, edge::EdgeCluster& cluster,
                               std::vector<std::string> local_nodes,
                               double heartbeat_timeout_seconds, std::ostream& log)
    : timer_(io),
      cluster_(cluster),
      local_nodes_(std::move(local_nodes)),
      heartbeat_timeout_seconds_(heartbeat_timeout_seconds),
      stale_check_period_(seconds(std::max(0.1, heartbeat_timeout_seconds / 4))),
      // A floor keeps an absurdly small timeout from turning this into a
      // busy loop; such a timeout then simply makes the nodes flap.
      heartbeat_period_(seconds(std::max(0.001, heartbeat_timeout_seconds / 3))),
      log_(log) {}

void NodeSupervisor::start() {
  const Clock::time_point now = Clock::now();
  next_stale_check_ = now + stale_check_period_;
  next_heartbeat_ = now + heartbeat_period_;
  stopped_ = false;
  schedule();
}

void NodeSupervisor::set_local_nodes(std::vector<std::string> local_nodes) {
  local_nodes_ = std::move(local_nodes);
}

void NodeSupervisor::stop() {
  stopped_ = true;
  timer_.cancel();
}

void NodeSupervisor::schedule() {
  timer_.expires_at(std::min(next_stale_check_, next_heartbeat_));
  timer_.async_wait([this](const boost::system::error_code& error) {
    if (error == boost::asio::error::operation_aborted || stopped_) return;
    on_timer();
  });
}

// Stale detection runs before the heartbeats: if this process was frozen
// (stopped, swapped out) for longer than the timeout, its nodes really did
// miss their heartbeats, and that is reported before they come back.
void NodeSupervisor::on_timer() {
  const Clock::time_point now = Clock::now();
  if (now >= next_stale_check_) {
    detect_stale_nodes();
    next_stale_check_ = now + stale_check_period_;
  }
  if (now >= next_heartbeat_) {
    send_heartbeats();
    next_heartbeat_ = now + heartbeat_period_;
  }
  schedule();
}

void NodeSupervisor::detect_stale_nodes() {
  // The cluster lists every stale node on every check, including the ones it
  // already took offline; report each only when it goes stale.
  for (const std::string& node_id : cluster_.detect_stale_nodes(heartbeat_timeout_seconds_)) {
    if (stale_nodes_.insert(node_id).second) {
      log_ << "edge-host: node '" << node_id << "' is stale (no heartbeat within "
           << heartbeat_timeout_seconds_ << " s): now offline" << std::endl;
    }
  }
}

// The nodes of this single-process host are local: their "heartbeat" is this
// process being alive and its event loop running. Nobody else would send
// heartbeats for them, so without these they would all go stale after one
// timeout. Nodes in other processes would send their own.
void NodeSupervisor::set_machine_node(std::string node_id) {
  machine_node_ = std::move(node_id);
  sampler_.reset();
  if (!machine_node_.empty()) sampler_.emplace();
}

void NodeSupervisor::send_heartbeats() {
  for (auto position = local_nodes_.begin(); position != local_nodes_.end();) {
    try {
      if (*position == machine_node_ && sampler_) {
        cluster_.heartbeat(*position, sampler_->sample());
      } else {
        cluster_.heartbeat(*position);
      }
      ++position;
    } catch (const std::invalid_argument&) {
      // Deregistered through the API: stop heartbeating it.
      log_ << "edge-host: node '" << *position << "' was removed; no more heartbeats for it"
           << std::endl;
      position = local_nodes_.erase(position);
    } catch (const std::runtime_error& error) {
      // /proc unreadable: a plain heartbeat keeps the node alive.
      log_ << "edge-host: cannot sample machine usage: " << error.what() << std::endl;
      cluster_.heartbeat(*position);
      ++position;
    }
  }
  for (auto position = stale_nodes_.begin(); position != stale_nodes_.end();) {
    const std::optional<edge::EdgeNode> node = cluster_.node(*position);
    if (node && node->status != edge::EdgeNodeStatus::Offline) {
      log_ << "edge-host: node '" << *position << "' is back " << edge::to_string(node->status)
           << std::endl;
      position = stale_nodes_.erase(position);
    } else {
      ++position;
    }
  }
}

}  // namespace edge::app
