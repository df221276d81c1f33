// What edge-host does for each command of its command line. Each returns the
// process exit status; failures are thrown (edge::ConfigError,
// edge::EdgeExecutionError, ...) and reported by main().
#pragma once

#include "command_line.hpp"

namespace edge::app {

inline constexpr int kExitSuccess = 0;
inline constexpr int kExitFailure = 1;  // bad topology, failed call, any error
inline constexpr int kExitUsage = 2;    // bad command line

// --check: loads the topology, applies it to a scratch cluster, prints
// "ok: N nodes, M functions".
int run_check(const CommandLine& command_line);
// --invoke: calls the function once and writes its output to stdout.
int run_invoke(const CommandLine& command_line);
// No command: runs the cluster until SIGINT or SIGTERM.
int run_cluster(const CommandLine& command_line);

}  // namespace edge::app
