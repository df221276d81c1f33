// Many simulated nodes in one process, speaking the cluster protocol to a
// real controller through a real nats-server: heartbeats (with a fixed
// inventory digest), answers to inventory requests, and echo calls. Their
// inventories list no copies, so a controller places functions on them but
// routes no call there by itself (POST ...?node=ID reaches the echo). For the
// load tool (edge-fleet-load) and the benchmarks: a thousand edge devices
// are not at hand, their traffic is.
//
// Thread-safety: beat() and flush() from one thread; the request handlers
// run on the subscriptions' threads.
#pragma once

#include "fleet/subjects.hpp"
#include "nats/nats_client.hpp"
#include "nats/subscription.hpp"

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edge::fleet_load {

struct SimulatedFleetOptions {
  std::string url;
  std::string cluster = "edge";
  int nodes = 1000;
  std::string id_prefix = "sim-";  // nodes are sim-0000, sim-0001, ...
  // Heartbeats go out on this many connections (batching: many small
  // publishes per write), nodes spread over them.
  int connections = 2;
};

class SimulatedFleet {
 public:
  explicit SimulatedFleet(SimulatedFleetOptions options);
  ~SimulatedFleet();
  SimulatedFleet(const SimulatedFleet&) = delete;
  SimulatedFleet& operator=(const SimulatedFleet&) = delete;

  const std::vector<std::string>& node_ids() const noexcept { return ids_; }
  // Publishes one heartbeat for every node for which `include(index)` is
  // true (all when empty); returns how many.
  std::size_t beat(const std::function<bool(std::size_t)>& include = {});
  // Waits until the server has every heartbeat published so far.
  void flush();
  std::uint64_t inventory_requests() const noexcept { return inventory_requests_.load(); }

 private:
  SimulatedFleetOptions options_;
  fleet::Subjects subjects_;
  std::vector<std::string> ids_;
  std::vector<std::string> subjects_of_;  // heartbeat subject per node
  std::vector<std::uint64_t> sequences_;
  std::string boot_id_;
  std::vector<std::string> digests_;  // inventory digest per node
  std::vector<std::unique_ptr<nats::NatsClient>> clients_;
  std::unique_ptr<nats::NatsClient> responder_;
  std::atomic<std::uint64_t> inventory_requests_{0};
  std::vector<nats::Subscription> subscriptions_;  // last: end first
};

}  // namespace edge::fleet_load
