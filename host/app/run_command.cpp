#include "asio.hpp"
#include "commands.hpp"
#include "node_supervisor.hpp"
#include "placement_table.hpp"

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include <csignal>
#include <iostream>
#include <string>
#include <vector>

namespace edge::app {
namespace {

std::string signal_name(int signal_number) {
  switch (signal_number) {
    case SIGINT:
      return "SIGINT";
    case SIGTERM:
      return "SIGTERM";
    default:
      return "signal " + std::to_string(signal_number);
  }
}

}  // namespace

int run_cluster(const CommandLine& command_line) {
  boost::asio::io_context io;
  // Installed before anything slow: a signal that arrives while the topology
  // loads is then delivered once the loop runs (a clean stop) instead of
  // killing the process.
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);

  const edge::Topology topology =
      edge::load_topology(command_line.config, command_line.topology_options());
  edge::EdgeCluster cluster;
  edge::apply_topology(cluster, topology);
  print_placement(std::cout, topology, cluster);

  std::vector<std::string> local_nodes;
  for (const edge::EdgeNode& node : topology.nodes) local_nodes.push_back(node.id);
  NodeSupervisor supervisor(io, cluster, std::move(local_nodes), topology.heartbeat_timeout_seconds,
                            std::cout);
  supervisor.start();

  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error == boost::asio::error::operation_aborted) return;
    std::cout << "edge-host: received " << signal_name(signal_number) << ", stopping" << std::endl;
    supervisor.stop();
  });

  std::cout << "\nedge-host: running (stop with SIGINT or SIGTERM)" << std::endl;
  io.run();
  return kExitSuccess;
}

}  // namespace edge::app
