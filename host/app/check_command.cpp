#include "commands.hpp"
#include "wording.hpp"

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include <iostream>
#include <stdexcept>

namespace edge::app {

int run_check(const CommandLine& command_line) {
  const edge::Topology topology =
      edge::load_topology(command_line.config, command_line.topology_options());
  // Loading validates the file; applying it shows the cluster accepts every
  // function too. The scratch cluster never loads a plugin: deploying does not.
  edge::EdgeCluster scratch;
  edge::apply_topology(scratch, topology);

  std::cout << "ok: " << count_of(topology.nodes.size(), "node") << ", "
            << count_of(topology.functions.size(), "function");
  if (const std::size_t pending = scratch.health().pending_functions; pending != 0) {
    std::cout << " (" << pending << " pending: no node can take " << (pending == 1 ? "it" : "them")
              << " now)";
  }
  std::cout << std::endl;
  if (!std::cout) throw std::runtime_error("cannot write to standard output");
  return kExitSuccess;
}

}  // namespace edge::app
