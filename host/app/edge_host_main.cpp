// edge-host: runs an edge cluster from a YAML topology, checks a topology, or
// invokes one function. See usage_text() in command_line.cpp.
#include "command_line.hpp"
#include "commands.hpp"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  using namespace edge::app;
  // Every failure ends as one line on stderr and an exit status, never as
  // an uncaught exception (and its abort).
  try {
    CommandLine command_line;
    try {
      command_line = parse_command_line(argc, argv);
    } catch (const UsageError& error) {
      std::cerr << "edge-host: error: " << error.what() << "\n"
                << "Try 'edge-host --help' for more information.\n";
      return kExitUsage;
    }
    switch (command_line.command) {
      case Command::Help:
        std::cout << usage_text();
        return kExitSuccess;
      case Command::Version:
        std::cout << version_text();
        return kExitSuccess;
      case Command::Check:
        return run_check(command_line);
      case Command::Invoke:
        return run_invoke(command_line);
      case Command::Run:
        return run_cluster(command_line);
    }
  } catch (const std::exception& error) {
    std::cerr << "edge-host: error: " << error.what() << std::endl;
  } catch (...) {
    std::cerr << "edge-host: error: unexpected failure (an exception of unknown type)" << std::endl;
  }
  return kExitFailure;
}
