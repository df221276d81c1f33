#include "commands.hpp"

#include <cassert>
#include <functional>
#include <map>
#include <ostream>

namespace edgectl {

void print_json(std::ostream& out, const Json& value) {
  // Replace rather than throw on bytes that are not UTF-8: the server's JSON
  // is UTF-8, but a plugin's error message may not be.
  out << value.dump(2, ' ', false, Json::error_handler_t::replace) << '\n';
}

std::string function_path(const std::string& function_id) {
  return "/v1/functions/" + url_encode(function_id);
}
std::string node_path(const std::string& node_id) { return "/v1/nodes/" + url_encode(node_id); }

int run_command(const Context& context) {
  static const std::map<std::string, std::function<int(const Context&)>, std::less<>> kCommands{
      {"nodes", run_nodes},
      {"drain", run_drain_or_resume},
      {"resume", run_drain_or_resume},
      {"health", run_health},
      {"functions", run_functions},
      {"function", run_function},
      {"deploy", run_deploy},
      {"plan", run_plan},
      {"remove", run_remove},
      {"warm", run_warm},
      {"invoke", run_invoke},
      {"top", run_top},
  };
  const auto found = kCommands.find(context.line.command);
  assert(found != kCommands.end() && "parse_command_line accepts only known commands");
  return found->second(context);
}

}  // namespace edgectl
