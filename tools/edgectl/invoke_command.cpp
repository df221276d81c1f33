// invoke ID: the function's output bytes, unchanged, on stdout.
#include "commands.hpp"

#include <unistd.h>

#include <iostream>
#include <iterator>
#include <ostream>

namespace edgectl {
namespace {

std::string read_stdin() {
  std::cin >> std::noskipws;
  return std::string(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
}

// --input DATA, --input - (stdin), or stdin when it is piped; a terminal on
// stdin means no input rather than waiting for Ctrl-D.
std::string call_input(const CommandLine& line) {
  if (const auto input = line.option("input")) return *input == "-" ? read_stdin() : *input;
  return ::isatty(STDIN_FILENO) ? std::string() : read_stdin();
}

}  // namespace

int run_invoke(const Context& context) {
  if (context.line.json) {
    throw UsageError("--json does not apply to invoke: it writes the function's own output bytes");
  }
  const std::string& id = context.line.arguments.at(0);
  std::string target = function_path(id) + "/invoke";
  if (const auto node = context.line.option("node")) target += "?node=" + url_encode(*node);

  const std::string input = call_input(context.line);
  const HttpResponse response = context.api.raw("POST", target, input, "application/octet-stream");
  if (response.status < 200 || response.status >= 300) ApiClient::throw_error(response);
  context.out.write(response.body.data(), static_cast<std::streamsize>(response.body.size()));
  context.out.flush();
  if (context.line.flag("verbose")) {
    const auto header = [&](std::string_view name) {
      const std::string* value = response.header(name);
      return value == nullptr ? std::string("?") : *value;
    };
    context.err << "edgectl: node " << header("x-edge-node") << ", " << header("x-edge-duration-ms")
                << " ms" << (header("x-edge-cold-start") == "true" ? ", cold start" : "")
                << ", request " << header("x-request-id") << "\n";
  }
  return kExitOk;
}

}  // namespace edgectl
