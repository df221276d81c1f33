// edgectl's command line: global options (anywhere on the line), a command,
// its positional arguments and its options. Parsing checks everything it can
// without the server: unknown commands and options, missing values, numbers
// out of range; every problem is a UsageError (exit status 2).
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace edgectl {

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

struct CommandLine {
  // Global options; --server and --token win over EDGE_SERVER and EDGE_TOKEN.
  std::string server = std::string(kDefaultServer);
  std::optional<std::string> token;
  bool json = false;
  std::chrono::milliseconds request_timeout{30'000};

  std::string command;                 // "nodes", "invoke", ...; "help" or "version"
  std::vector<std::string> arguments;  // positional, after the command
  // The command's options by name without "--"; repeatable ones (--env,
  // --capability) may hold several values, flags hold one empty value.
  std::map<std::string, std::vector<std::string>, std::less<>> options;

  std::optional<std::string> option(std::string_view name) const;
  std::vector<std::string> all(std::string_view name) const;
  bool flag(std::string_view name) const { return options.contains(name); }
};

// `environment` looks a variable up (getenv in main, a map in tests).
using Environment = std::optional<std::string> (*)(const char* name);

CommandLine parse_command_line(const std::vector<std::string_view>& arguments,
                               Environment environment);

// Checked numbers for option values: "--memory: expected a number > 0, got 'x'".
double positive_number(std::string_view option, std::string_view text);
long whole_number(std::string_view option, std::string_view text, long minimum);

std::string usage_text();

}  // namespace edgectl
