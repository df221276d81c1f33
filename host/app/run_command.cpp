#include "asio.hpp"
#include "commands.hpp"
#include "fleet_membership.hpp"
#include "http/api.hpp"
#include "http/server.hpp"
#include "log/logger.hpp"
#include "node_supervisor.hpp"
#include "placement_table.hpp"
#include "plugin/host_api.hpp"
#include "plugin_lifecycle.hpp"
#include "server_settings.hpp"

#include <edge/cluster.hpp>
#include <edge/sandbox.hpp>
#include <edge/topology.hpp>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace edge::app {
namespace {

class PluginLogRoute {
 public:
  explicit PluginLogRoute(const log::Logger& logger) {
    set_plugin_log_sink(&write, const_cast<log::Logger*>(&logger));
  }
  ~PluginLogRoute() { set_plugin_log_sink(nullptr, nullptr); }
  PluginLogRoute(const PluginLogRoute&) = delete;
  PluginLogRoute& operator=(const PluginLogRoute&) = delete;

 private:
  static void write(void* context, edge_log_level level, std::string_view function_id,
                    std::string_view message) {
    static constexpr log::Level kLevels[] = {log::Level::Debug, log::Level::Info, log::Level::Warn,
                                             log::Level::Error};
    const auto index = static_cast<std::size_t>(std::clamp(static_cast<int>(level), 0, 3));
    static_cast<const log::Logger*>(context)->write(
        kLevels[index], message, {{"source", "plugin"}, {"function", function_id}});
  }
};

// The sandbox for process-isolated functions, with workers' stdout/stderr
// going to the structured log. Its zygote starts now when the topology has
// such functions, so that their first cold start does not pay for it; the
// start-up banner (stdout) then says what enforces the limits.
std::shared_ptr<edge::Sandbox> make_sandbox(const edge::Topology& topology,
                                            const log::Logger& logger) {
  edge::SandboxOptions options = topology.sandbox;
  options.on_output = [&logger](std::string_view function_id, pid_t pid, std::string_view text,
                                bool truncated) {
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
    logger.write(log::Level::Warn, text,
                 {{"source", "worker-output"},
                  {"function", function_id},
                  {"pid", std::to_string(pid)},
                  {"truncated", truncated ? "true" : "false"}});
  };
  auto sandbox = std::make_shared<edge::Sandbox>(std::move(options));
  const bool needed = std::any_of(topology.functions.begin(), topology.functions.end(),
                                  [](const edge::FunctionSpec& spec) {
                                    return spec.function.isolation == edge::Isolation::Process;
                                  });
  if (needed) {
    sandbox->start();
    std::cout << "process isolation: worker zygote pid " << sandbox->zygote_pid()
              << "; memory_mb enforced by " << sandbox->memory_limit_mode() << ", processes by "
              << sandbox->process_limit_mode() << "\n";
  }
  return sandbox;
}

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
  boost::asio::signal_set hangup(io, SIGHUP);  // topology reload, armed below

  const edge::Topology topology =
      edge::load_topology(command_line.config, command_line.topology_options());
  const log::Logger logger(command_line.log_level, command_line.log_format);
  // Plugins' own log lines go through the same structured logger (reset
  // after the cluster, and so every plugin, is gone).
  const PluginLogRoute plugin_log_route(logger);
  // Plugins load from content-addressed copies, so replacing a file never
  // hands back the old, still-mapped library.
  edge::EdgeCluster cluster(edge::ClusterOptions{make_plugin_store(logger, topology.security),
                                                 make_sandbox(topology, logger)});
  // A controller places its functions once the hosts of the cluster have had
  // a heartbeat's time to report (FleetMembership), not now on no node.
  edge::Topology applied = topology;
  if (topology.controller) applied.functions.clear();
  edge::apply_topology(cluster, applied);
  print_placement(std::cout, applied, cluster);
  std::optional<FleetMembership> fleet;
  if (!topology.nats_url.empty()) {
    fleet.emplace(topology, cluster, logger);
    std::cout << "\n" << fleet->describe() << std::endl;
  }

  // The server's own threads serve the API; this thread keeps the node
  // supervisor and the signals, so that slow function calls never delay a
  // heartbeat or a stop.
  http::HttpServer server(
      server_options(topology.server, command_line),
      http::make_api_handler({cluster, topology.plugin_dir, api_token(topology.server), logger}),
      logger);
  server.start();
  std::cout << "\nlistening on " << server.local_endpoint().to_string() << std::endl;

  std::vector<std::string> local_nodes;
  for (const edge::EdgeNode& node : topology.nodes) local_nodes.push_back(node.id);
  NodeSupervisor supervisor(io, cluster, std::move(local_nodes), topology.heartbeat_timeout_seconds,
                            std::cout);
  if (!command_line.machine_node.empty()) {
    if (!cluster.node(command_line.machine_node)) {
      throw std::invalid_argument("--machine-node: no node '" + command_line.machine_node +
                                  "' in " + command_line.config.string());
    }
    supervisor.set_machine_node(command_line.machine_node);
  }
  supervisor.start();

  PluginLifecycle lifecycle(
      cluster, topology,
      [&] { return edge::load_topology(command_line.config, command_line.topology_options()); },
      logger);
  lifecycle.start();
  std::function<void()> await_hangup = [&] {
    hangup.async_wait([&](const boost::system::error_code& error, int) {
      if (error) return;  // cancelled: stopping
      std::vector<std::string> nodes;
      for (const edge::EdgeNode& node : lifecycle.reload().nodes) nodes.push_back(node.id);
      supervisor.set_local_nodes(std::move(nodes));
      await_hangup();
    });
  };
  await_hangup();

  signals.async_wait([&](const boost::system::error_code& error, int signal_number) {
    if (error == boost::asio::error::operation_aborted) return;
    std::cout << "edge-host: received " << signal_name(signal_number) << ", stopping" << std::endl;
    supervisor.stop();
    lifecycle.stop();
    boost::system::error_code ignored;
    hangup.cancel(ignored);
    // Back to the default action: a second signal ends the process at once
    // instead of waiting for the drain.
    signals.clear(ignored);
  });

  std::cout << "edge-host: running (stop with SIGINT or SIGTERM)" << std::endl;
  io.run();

  if (!server.stop(drain_timeout(topology.server))) {
    // A call is stuck inside a plugin: unloading it under that call (the
    // cluster's destructor) would crash, so leave without destructors.
    std::cout << "edge-host: calls still running after the drain timeout; exiting anyway"
              << std::endl;
    std::fflush(nullptr);
    std::_Exit(kExitFailure);
  }
  return kExitSuccess;
}

}  // namespace edge::app
