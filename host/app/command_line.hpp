// edge-host's command line: what the user asked for, parsed by hand (the
// options are few and Boost.Program_options is not a dependency).
#pragma once

#include "log/logger.hpp"

#include <edge/topology.hpp>

#include <filesystem>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace edge::app {

enum class Command {
  Run,      // load the topology and keep the cluster running until a signal
  Check,    // validate the topology and exit
  Invoke,   // call one function once and exit
  Help,     // print the usage text
  Version,  // print the version
};

struct CommandLine {
  Command command = Command::Run;
  std::filesystem::path config;                     // --config, required but for Help and Version
  std::optional<std::filesystem::path> plugin_dir;  // --plugin-dir
  bool allow_writable_plugins = false;              // --allow-writable-plugins
  std::string function_id;                          // --invoke
  std::string input;                                // --input (Invoke only)
  bool input_from_stdin = false;                    // --input -
  std::optional<edge::ListenAddress> listen;        // --listen (Run only)
  std::string machine_node;                         // --machine-node (Run only)
  std::optional<std::string> nats_url;              // --nats (Run only)
  bool controller = false;                          // --controller (Run only)
  log::Level log_level = log::Level::Info;          // --log-level
  log::Format log_format = log::Format::Text;       // --log-format

  edge::TopologyOptions topology_options() const;
};

// The command line is unusable; what() is one line naming the argument.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses the arguments after the program name. Throws UsageError.
CommandLine parse_command_line(std::span<const std::string_view> arguments);
CommandLine parse_command_line(int argc, const char* const* argv);

// The --help text and the --version line, each ending in a newline.
std::string usage_text();
std::string version_text();

}  // namespace edge::app
