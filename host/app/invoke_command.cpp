#include "commands.hpp"

#include <edge/cluster.hpp>
#include <edge/plugin_store.hpp>
#include <edge/sandbox.hpp>
#include <edge/topology.hpp>

#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <iterator>
#include <memory>
#include <stdexcept>
#include <string>

namespace edge::app {
namespace {

std::string read_standard_input() {
  std::string input{std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>()};
  if (std::cin.bad()) throw std::runtime_error("cannot read the input from standard input");
  return input;
}

// "unknown function 'x' in demo.yaml (it defines: a, b)": the cluster's own
// message does not say where the user could look.
std::string unknown_function_message(const edge::Topology& topology,
                                     const edge::EdgeCluster& cluster,
                                     const std::string& function_id) {
  std::string known;
  for (const std::string& id : cluster.function_ids()) known += (known.empty() ? "" : ", ") + id;
  return "unknown function '" + function_id + "' in " + topology.source.string() +
         (known.empty() ? " (it defines no functions)" : " (it defines: " + known + ")");
}

}  // namespace

int run_invoke(const CommandLine& command_line) {
  const edge::Topology topology =
      edge::load_topology(command_line.config, command_line.topology_options());
  // Through a store, as the daemon loads: the security section is checked
  // again at the cold start, on the very bytes that get mapped.
  edge::PluginStoreOptions store_options;
  store_options.security = topology.security;
  // The sandbox (for a process-isolated function) with the topology's
  // settings; its zygote starts only if the call needs it.
  const bool isolated = std::any_of(topology.functions.begin(), topology.functions.end(),
                                    [](const edge::FunctionSpec& spec) {
                                      return spec.function.isolation == edge::Isolation::Process;
                                    });
  edge::EdgeCluster cluster(
      edge::ClusterOptions{std::make_shared<edge::PluginStore>(std::move(store_options)),
                           isolated ? std::make_shared<edge::Sandbox>(topology.sandbox) : nullptr});
  edge::apply_topology(cluster, topology);
  if (!cluster.function(command_line.function_id)) {
    throw std::invalid_argument(
        unknown_function_message(topology, cluster, command_line.function_id));
  }
  // Read only once the topology is known to be good, so that a bad file is
  // reported at once rather than after the user typed the input.
  const std::string input =
      command_line.input_from_stdin ? read_standard_input() : command_line.input;

  const edge::EdgeCluster::RoutedCall call = cluster.invoke_routed(command_line.function_id, input);
  // The output is bytes, written exactly; a newline only keeps a terminal's
  // prompt off the output's last line.
  std::cout.write(call.result.output.data(),
                  static_cast<std::streamsize>(call.result.output.size()));
  if (::isatty(STDOUT_FILENO) == 1) std::cout << '\n';
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("cannot write the output to standard output");
  return kExitSuccess;
}

}  // namespace edge::app
