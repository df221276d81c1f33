// What each edgectl command does. Every command returns the exit status;
// failures are thrown (UsageError, ServerError, TransportError) and turned
// into one line and a status by main().
#pragma once

#include "api_client.hpp"
#include "command_line.hpp"

#include "json.hpp"

#include <iosfwd>
#include <string>

namespace edgectl {

inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct Context {
  const CommandLine& line;
  const ApiClient& api;
  std::ostream& out;
  std::ostream& err;
};

// Runs line.command (anything but help and version).
int run_command(const Context& context);

int run_nodes(const Context& context);
int run_drain_or_resume(const Context& context);  // drain NODE, resume NODE
int run_health(const Context& context);
int run_functions(const Context& context);
int run_function(const Context& context);
int run_deploy(const Context& context);
int run_plan(const Context& context);
int run_remove(const Context& context);
int run_warm(const Context& context);
int run_invoke(const Context& context);
int run_top(const Context& context);

// Shared by the commands.
void print_json(std::ostream& out, const Json& value);
std::string function_path(const std::string& function_id);  // "/v1/functions/<encoded id>"
std::string node_path(const std::string& node_id);          // "/v1/nodes/<encoded id>"

}  // namespace edgectl
