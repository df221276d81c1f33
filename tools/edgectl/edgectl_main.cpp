// edgectl: a command-line client for edge-host's HTTP API. See usage_text()
// in command_line.cpp and docs/operations.md.
#include "api_client.hpp"
#include "command_line.hpp"
#include "commands.hpp"
#include "http_client.hpp"

#include <cstdlib>
#include <exception>
#include <iostream>
#include <vector>

#ifndef EDGECTL_VERSION
#error "EDGECTL_VERSION must be defined by the build (tools/edgectl/CMakeLists.txt)"
#endif

namespace {

std::optional<std::string> from_environment(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::nullopt : std::optional<std::string>(value);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace edgectl;
  // Every failure is one line on stderr and an exit status scripts can rely
  // on: 1 the server said no, 2 bad command line, 3 the server is unreachable.
  try {
    std::vector<std::string_view> arguments(argv + 1, argv + argc);
    const CommandLine line = parse_command_line(arguments, from_environment);
    if (line.command == "help") {
      std::cout << usage_text();
      return kExitOk;
    }
    if (line.command == "version") {
      std::cout << "edgectl " EDGECTL_VERSION "\n";
      return kExitOk;
    }
    ServerAddress server;
    try {
      server = parse_server_url(line.server);
    } catch (const std::invalid_argument& error) {
      throw UsageError(error.what());
    }
    const ApiClient api(std::move(server), line.token, line.request_timeout);
    return run_command(Context{line, api, std::cout, std::cerr});
  } catch (const UsageError& error) {
    std::cerr << "edgectl: error: " << error.what() << " (see edgectl --help)\n";
    return kExitUsage;
  } catch (const ServerError& error) {
    std::cerr << "edgectl: error: " << error.what() << "\n";
    return kExitServerError;
  } catch (const TransportError& error) {
    std::cerr << "edgectl: error: " << error.what() << "\n";
    return kExitUnreachable;
  } catch (const std::exception& error) {
    std::cerr << "edgectl: error: " << error.what() << "\n";
  } catch (...) {
    std::cerr << "edgectl: error: unexpected failure (an exception of unknown type)\n";
  }
  return kExitServerError;
}
