#include "command_line.hpp"

#include <edge/sdk.h>

#include <vector>

#ifndef EDGE_HOST_VERSION
#error "EDGE_HOST_VERSION must be defined by the build (host/CMakeLists.txt)"
#endif

namespace edge::app {
namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

// Walks the arguments; an option's value is either glued on ("--config=x")
// or the next argument ("--config x").
class ArgumentReader {
 public:
  explicit ArgumentReader(std::span<const std::string_view> arguments) : arguments_(arguments) {}

  bool done() const { return next_ >= arguments_.size(); }

  // The next argument split into its option name and glued value, if any.
  struct Option {
    std::string_view name;
    std::optional<std::string_view> glued_value;
  };
  Option next_option() {
    const std::string_view argument = arguments_[next_++];
    if (!argument.starts_with("--") && argument != "-h") {
      throw UsageError("unexpected argument " + quoted(argument) +
                       " (every argument is an option such as --config FILE)");
    }
    const std::size_t equals = argument.find('=');
    if (equals == std::string_view::npos) return {argument, std::nullopt};
    return {argument.substr(0, equals), argument.substr(equals + 1)};
  }

  // The value of `option`. A separate argument that looks like an option is
  // taken as a forgotten value ("--config --check"), not as the value.
  std::string_view value_of(const Option& option) {
    if (option.glued_value) return *option.glued_value;
    if (done() || arguments_[next_].starts_with("--")) {
      throw UsageError("option " + std::string(option.name) + " needs a value" +
                       (done() ? std::string()
                               : " (write " + std::string(option.name) +
                                     "=VALUE for a value that starts with --)"));
    }
    return arguments_[next_++];
  }

 private:
  std::span<const std::string_view> arguments_;
  std::size_t next_ = 0;
};

void reject_value(const ArgumentReader::Option& option) {
  if (option.glued_value) {
    throw UsageError("option " + std::string(option.name) + " takes no value");
  }
}

// Options given twice are a mistake (which one did the user mean?).
template <typename T>
void set_once(std::optional<T>& slot, std::string_view name, T value) {
  if (slot) throw UsageError("option " + std::string(name) + " given more than once");
  slot = std::move(value);
}

CommandLine command_only(Command command) {
  CommandLine command_line;
  command_line.command = command;
  return command_line;
}

std::string_view non_empty(std::string_view name, std::string_view value) {
  if (value.empty()) throw UsageError("option " + std::string(name) + " needs a non-empty value");
  return value;
}

edge::ListenAddress listen_address(std::string_view name, std::string_view value) {
  const std::optional<edge::ListenAddress> address = edge::parse_listen_address(value);
  if (!address) {
    throw UsageError("option " + std::string(name) +
                     " expects HOST:PORT (such as 127.0.0.1:8080 or [::1]:0), got " +
                     quoted(value));
  }
  return *address;
}

log::Level log_level(std::string_view name, std::string_view value) {
  const std::optional<log::Level> level = log::parse_level(value);
  if (!level) {
    throw UsageError("option " + std::string(name) + " expects debug, info, warn or error, got " +
                     quoted(value));
  }
  return *level;
}

log::Format log_format(std::string_view name, std::string_view value) {
  const std::optional<log::Format> format = log::parse_format(value);
  if (!format) {
    throw UsageError("option " + std::string(name) + " expects text or json, got " + quoted(value));
  }
  return *format;
}

}  // namespace

edge::TopologyOptions CommandLine::topology_options() const {
  edge::TopologyOptions options;
  options.plugin_dir = plugin_dir;
  options.allow_writable_plugins = allow_writable_plugins;
  options.nats_url = nats_url;
  options.controller = controller;
  return options;
}

CommandLine parse_command_line(std::span<const std::string_view> arguments) {
  std::optional<std::filesystem::path> config;
  std::optional<std::filesystem::path> plugin_dir;
  std::optional<std::string> function_id;
  std::optional<std::string> input;
  std::optional<bool> check;
  std::optional<bool> allow_writable_plugins;
  std::optional<edge::ListenAddress> listen;
  std::optional<std::string> machine_node;
  std::optional<std::string> nats_url;
  std::optional<bool> controller;
  std::optional<log::Level> level;
  std::optional<log::Format> format;

  ArgumentReader reader(arguments);
  while (!reader.done()) {
    const ArgumentReader::Option option = reader.next_option();
    if (option.name == "--help" || option.name == "-h") {
      reject_value(option);
      return command_only(Command::Help);
    }
    if (option.name == "--version") {
      reject_value(option);
      return command_only(Command::Version);
    }
    if (option.name == "--check") {
      reject_value(option);
      set_once(check, option.name, true);
    } else if (option.name == "--allow-writable-plugins") {
      reject_value(option);
      set_once(allow_writable_plugins, option.name, true);
    } else if (option.name == "--config") {
      set_once(config, option.name,
               std::filesystem::path(non_empty(option.name, reader.value_of(option))));
    } else if (option.name == "--plugin-dir") {
      set_once(plugin_dir, option.name,
               std::filesystem::path(non_empty(option.name, reader.value_of(option))));
    } else if (option.name == "--invoke") {
      set_once(function_id, option.name,
               std::string(non_empty(option.name, reader.value_of(option))));
    } else if (option.name == "--input") {
      set_once(input, option.name, std::string(reader.value_of(option)));
    } else if (option.name == "--listen") {
      set_once(listen, option.name, listen_address(option.name, reader.value_of(option)));
    } else if (option.name == "--machine-node") {
      set_once(machine_node, option.name,
               std::string(non_empty(option.name, reader.value_of(option))));
    } else if (option.name == "--nats") {
      set_once(nats_url, option.name, std::string(non_empty(option.name, reader.value_of(option))));
    } else if (option.name == "--controller") {
      reject_value(option);
      set_once(controller, option.name, true);
    } else if (option.name == "--log-level") {
      set_once(level, option.name, log_level(option.name, reader.value_of(option)));
    } else if (option.name == "--log-format") {
      set_once(format, option.name, log_format(option.name, reader.value_of(option)));
    } else {
      throw UsageError("unknown option " + quoted(option.name));
    }
  }

  if (!config) throw UsageError("missing --config FILE (the topology to load)");
  if (check && function_id) throw UsageError("--check and --invoke cannot be used together");
  if (input && !function_id) throw UsageError("--input is only meaningful with --invoke ID");
  if (machine_node && (check || function_id)) {
    throw UsageError("--machine-node is only meaningful when running the host");
  }
  if ((nats_url || controller) && function_id) {
    throw UsageError("--nats and --controller are only meaningful when running the host");
  }
  if (listen && (check || function_id)) {
    throw UsageError(
        "--listen is only meaningful when running the host (not with --check or --invoke)");
  }

  CommandLine command_line;
  command_line.config = std::move(*config);
  command_line.plugin_dir = std::move(plugin_dir);
  command_line.allow_writable_plugins = allow_writable_plugins.value_or(false);
  command_line.listen = std::move(listen);
  command_line.machine_node = machine_node.value_or("");
  command_line.nats_url = std::move(nats_url);
  command_line.controller = controller.value_or(false);
  command_line.log_level = level.value_or(log::Level::Info);
  command_line.log_format = format.value_or(log::Format::Text);
  if (check) {
    command_line.command = Command::Check;
  } else if (function_id) {
    command_line.command = Command::Invoke;
    command_line.function_id = std::move(*function_id);
    if (input == "-") {
      command_line.input_from_stdin = true;
    } else if (input) {
      command_line.input = std::move(*input);
    }
  }
  return command_line;
}

CommandLine parse_command_line(int argc, const char* const* argv) {
  std::vector<std::string_view> arguments;
  for (int index = 1; index < argc; ++index) arguments.emplace_back(argv[index]);
  return parse_command_line(arguments);
}

std::string usage_text() {
  return R"(Usage: edge-host --config FILE [--plugin-dir DIR] [--allow-writable-plugins]
                 [--listen HOST:PORT] [--nats URL [--controller]]
                 [--log-level LEVEL] [--log-format FORMAT]
       edge-host --config FILE [--plugin-dir DIR] --check
       edge-host --config FILE [--plugin-dir DIR] --invoke ID [--input DATA]
       edge-host --help | --version

Runs the edge cluster described by the YAML topology FILE (see config/README.md).
Without --check or --invoke it prints which functions run on which node, serves
the HTTP API (docs/http-api.md), printing "listening on HOST:PORT", and keeps
running, detecting stale nodes, until it receives SIGINT or SIGTERM; it then
stops accepting, lets calls in flight finish (server.drain_timeout_seconds) and
exits. A second signal ends it at once.

Options:
  --config FILE      the topology file to load
  --plugin-dir DIR   look plugins up in DIR instead of the file's plugin_dir
  --allow-writable-plugins
                     load plugins that group or others may write (or that sit
                     in such a directory), as security.allow_writable_plugins:
                     true does; for development only
  --check            validate FILE, print a one-line summary and exit
  --invoke ID        call function ID once, write its output to stdout and exit
  --input DATA       the input bytes for --invoke; '-' reads standard input
  --machine-node ID  the node that is this machine: its heartbeats carry the
                     machine's real CPU and memory use (from /proc)
  --nats URL         join the cluster over NATS at URL (nats://HOST:PORT, or
                     several, comma-separated), as cluster.nats does
  --controller       keep the cluster's view and place functions on every
                     host's nodes, as cluster.controller: true does
  --listen HOST:PORT serve the API there instead of the file's server.listen
                     (port 0: any free port)
  --log-level LEVEL  debug, info (default: one access line per request), warn
                     or error
  --log-format FORMAT text (default, key=value) or json (one object per line);
                     logs go to stderr
  -h, --help         print this help and exit
  --version          print the version and exit

Environment: EDGE_TOKEN, when set and not empty, replaces server.token: every
API endpoint but GET /healthz then needs "Authorization: Bearer <token>".

Exit status: 0 on success, 1 when the topology or the call failed (or calls
were still running after the drain timeout), 2 when the command line is wrong.
)";
}

std::string version_text() {
  return "edge-host " EDGE_HOST_VERSION " (plugin ABI " + std::to_string(EDGE_ABI_VERSION) + ")\n";
}

}  // namespace edge::app
