// edge-host's part in a cluster of many hosts over NATS (cluster.nats in the
// topology, or --nats): the controller role (cluster.controller, or
// --controller) or the node role (docs/cluster.md).
//
// The connection is made in the background and retried until it succeeds:
// a host whose NATS server is unreachable at boot serves its own nodes
// (offline autonomy) and joins the cluster once the server answers. So is
// the role (a server without JetStream is logged as an error and tried
// again, every 2-2.5 s, the log line on attempts 1, 2, 4, 8, ...).
//
// Lifetime: the cluster and logger must outlive it; destroy it before the
// cluster, after the HTTP server has stopped.
#pragma once

#include "log/logger.hpp"

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include "nats/nats_client.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace edge::app {

class FleetMembership {
 public:
  FleetMembership(const Topology& topology, EdgeCluster& cluster, const log::Logger& logger);
  ~FleetMembership();
  FleetMembership(const FleetMembership&) = delete;
  FleetMembership& operator=(const FleetMembership&) = delete;

  // What the host's start-up banner says about its role.
  std::string describe() const;

 private:
  struct Role;  // the NATS client, subjects and the controller or node agent

  void join();  // the background thread: connect, then start the role, retrying both
  // Throws what the controller's or node agent's start throws.
  std::unique_ptr<Role> start_role(std::shared_ptr<nats::NatsClient> client);
  const Topology topology_;
  EdgeCluster& cluster_;
  const log::Logger& logger_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;
  std::unique_ptr<Role> role_;  // guarded by mutex_ until the thread ends
  std::thread thread_;
};

}  // namespace edge::app
