#include "command_line.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace edgectl {
namespace {

// What a command accepts. Options not listed are usage errors, so that a
// typo (--plugn) is caught rather than ignored.
struct CommandSpec {
  std::string_view name;
  std::vector<std::string_view> positional;  // names, for messages ("ID", "NODE")
  std::set<std::string_view, std::less<>> value_options;
  std::set<std::string_view, std::less<>> repeatable_options;  // also value options
  std::set<std::string_view, std::less<>> flags;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::set<std::string_view, std::less<>> kDeployOptions{
      "plugin", "placement", "memory",     "timeout",   "max-in-flight",
      "name",   "env",       "capability", "isolation", "max-workers"};
  static const std::vector<CommandSpec> specs{
      {"nodes", {}, {}, {}, {}},
      {"functions", {}, {}, {}, {}},
      {"function", {"ID"}, {}, {}, {}},
      {"invoke", {"ID"}, {"input", "node"}, {}, {"verbose"}},
      {"deploy", {"ID"}, kDeployOptions, {"env", "capability"}, {}},
      {"plan", {"ID"}, kDeployOptions, {"env", "capability"}, {}},
      {"remove", {"ID"}, {}, {}, {}},
      {"warm", {"ID"}, {}, {}, {}},
      {"drain", {"NODE"}, {}, {}, {}},
      {"resume", {"NODE"}, {}, {}, {}},
      {"health", {}, {}, {}, {}},
      {"top", {}, {"interval", "iterations"}, {}, {}},
  };
  return specs;
}

const CommandSpec* find_spec(std::string_view command) {
  const auto& specs = command_specs();
  const auto found = std::find_if(specs.begin(), specs.end(),
                                  [&](const CommandSpec& spec) { return spec.name == command; });
  return found == specs.end() ? nullptr : &*found;
}

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

}  // namespace

std::optional<std::string> CommandLine::option(std::string_view name) const {
  const auto found = options.find(name);
  if (found == options.end() || found->second.empty()) return std::nullopt;
  return found->second.back();
}

std::vector<std::string> CommandLine::all(std::string_view name) const {
  const auto found = options.find(name);
  return found == options.end() ? std::vector<std::string>{} : found->second;
}

double positive_number(std::string_view option, std::string_view text) {
  double value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value) ||
      value <= 0) {
    throw UsageError("--" + std::string(option) + ": expected a number > 0, got " + quoted(text));
  }
  return value;
}

long whole_number(std::string_view option, std::string_view text, long minimum) {
  long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < minimum) {
    throw UsageError("--" + std::string(option) + ": expected a whole number >= " +
                     std::to_string(minimum) + ", got " + quoted(text));
  }
  return value;
}

CommandLine parse_command_line(const std::vector<std::string_view>& arguments,
                               Environment environment) {
  CommandLine line;
  if (const auto server = environment("EDGE_SERVER"); server && !server->empty())
    line.server = *server;
  if (const auto token = environment("EDGE_TOKEN"); token && !token->empty()) line.token = *token;

  const CommandSpec* spec = nullptr;
  std::set<std::string, std::less<>> globals_seen;
  bool help = false;
  bool version = false;
  for (std::size_t index = 0; index < arguments.size(); ++index) {
    const std::string_view argument = arguments[index];
    if (argument == "-h") {
      help = true;
      continue;
    }
    if (!argument.starts_with("--")) {
      if (argument.starts_with("-") && argument.size() > 1) {
        throw UsageError("unknown option " + quoted(argument) + " (options start with --)");
      }
      if (spec == nullptr && line.command.empty()) {
        line.command = std::string(argument);
        spec = find_spec(argument);
        if (spec == nullptr && argument != "help") {
          throw UsageError(
              "unknown command " + quoted(argument) +
              " (expected nodes, functions, function, invoke, deploy, plan, remove, warm, "
              "drain, resume, health or top)");
        }
      } else {
        line.arguments.emplace_back(argument);
      }
      continue;
    }

    // --name=value or --name [value]
    const std::size_t equals = argument.find('=');
    const std::string_view name =
        argument.substr(2, equals == std::string_view::npos ? std::string_view::npos : equals - 2);
    const std::optional<std::string_view> glued = equals == std::string_view::npos
                                                      ? std::nullopt
                                                      : std::optional(argument.substr(equals + 1));
    const auto value = [&]() -> std::string {
      if (glued) return std::string(*glued);
      if (index + 1 >= arguments.size() || arguments[index + 1].starts_with("--")) {
        throw UsageError(
            "option --" + std::string(name) + " needs a value" +
            (index + 1 < arguments.size()
                 ? " (write --" + std::string(name) + "=VALUE for a value that starts with --)"
                 : std::string()));
      }
      return std::string(arguments[++index]);
    };
    const auto no_value = [&] {
      if (glued) throw UsageError("option --" + std::string(name) + " takes no value");
    };
    const auto once = [&] {
      if (!globals_seen.emplace(name).second) {
        throw UsageError("option --" + std::string(name) + " given more than once");
      }
    };

    if (name == "help") {
      no_value();
      help = true;
    } else if (name == "version") {
      no_value();
      version = true;
    } else if (name == "json") {
      no_value();
      once();
      line.json = true;
    } else if (name == "server") {
      once();
      line.server = value();
    } else if (name == "token") {
      once();
      line.token = value();
    } else if (name == "request-timeout") {
      once();
      const double seconds = positive_number(name, value());
      line.request_timeout =
          std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
    } else if (spec == nullptr) {
      throw UsageError("unknown option " + quoted(argument) +
                       (line.command.empty() ? " before the command" : ""));
    } else if (spec->flags.contains(name)) {
      no_value();
      if (line.options.contains(name))
        throw UsageError("option --" + std::string(name) + " given more than once");
      line.options[std::string(name)].emplace_back();
    } else if (spec->value_options.contains(name)) {
      std::vector<std::string>& values = line.options[std::string(name)];
      if (!values.empty() && !spec->repeatable_options.contains(name)) {
        throw UsageError("option --" + std::string(name) + " given more than once");
      }
      values.push_back(value());
    } else {
      throw UsageError("unknown option --" + std::string(name) + " for '" +
                       std::string(spec->name) + "'");
    }
  }

  if (version) {
    line.command = "version";
    return line;
  }
  if (help || line.command == "help" || line.command.empty()) {
    if (!help && line.command.empty()) throw UsageError("no command given");
    line.command = "help";
    return line;
  }
  if (line.arguments.size() != spec->positional.size()) {
    if (line.arguments.size() < spec->positional.size()) {
      throw UsageError("'" + line.command + "' needs " +
                       std::string(spec->positional[line.arguments.size()]));
    }
    throw UsageError("unexpected argument " + quoted(line.arguments[spec->positional.size()]) +
                     " for '" + line.command + "'");
  }
  for (const std::string& argument : line.arguments) {
    if (argument.empty()) throw UsageError("'" + line.command + "': an id cannot be empty");
  }
  if ((line.command == "deploy" || line.command == "plan") && !line.option("plugin")) {
    throw UsageError("'" + line.command + "' needs --plugin NAME");
  }
  return line;
}

std::string usage_text() {
  return R"(Usage: edgectl [--server URL] [--token TOKEN] [--json] COMMAND [ARGS] [OPTIONS]

Talks to an edge-host over its HTTP API.

Commands:
  nodes                      list the nodes
  functions                  list the functions
  function ID                one function: definition, placement, stats per node
  invoke ID [--input DATA] [--node NODE] [--verbose]
                             call a function; its output bytes go to stdout
                             (input: --input DATA, --input - or piped stdin)
  deploy ID --plugin NAME [--placement all|least_loaded] [--memory MB]
            [--timeout S] [--max-in-flight N] [--name NAME]
            [--isolation none|process] [--max-workers N]
            [--env KEY=VALUE]... [--capability CAPABILITY]...
                             deploy or replace a function
  plan ID --plugin NAME ...  where deploy would place it, and why other nodes
                             would not take it (changes nothing)
  remove ID                  remove a function everywhere
  warm ID                    load a function's plugin on its nodes
  drain NODE                 put a node in maintenance and move its functions
  resume NODE                return a drained node to service
  health                     the cluster's health (exit 1 if critical or empty)
  top [--interval S] [--iterations N]
                             live table of the functions (calls/s, errors,
                             p50/p99, cold starts); N = 0 runs until Ctrl-C

Global options:
  --server URL               default $EDGE_SERVER, else http://127.0.0.1:8080
  --token TOKEN              bearer token; default $EDGE_TOKEN
  --json                     print the server's JSON instead of a table
  --request-timeout S        give up on a request after S seconds (default 30)
  --help, --version

Exit status: 0 ok, 1 the server answered with an error, 2 bad command line,
3 the server could not be reached (or gave no usable answer).
)";
}

}  // namespace edgectl
