#include "runtime/function_validation.hpp"

#include <edge/errors.hpp>

#include "util/format_number.hpp"

#include <cmath>
#include <system_error>

namespace edge {
namespace {

bool is_sha256_hex(const std::string& text) {
  if (text.size() != 64) return false;
  for (const char character : text) {
    if (!((character >= '0' && character <= '9') || (character >= 'a' && character <= 'f'))) {
      return false;
    }
  }
  return true;
}

}  // namespace

void validate_function(const EdgeFunction& function, bool require_plugin_file) {
  const auto invalid = [&](const std::string& why) {
    throw DeploymentError("cannot deploy function '" + function.id + "': " + why);
  };
  if (function.id.empty()) throw DeploymentError("cannot deploy a function with an empty id");
  if (static_cast<bool>(function.handler) == !function.plugin.empty()) {
    invalid("exactly one of handler and plugin must be set");
  }
  if (!std::isfinite(function.memory_mb) || function.memory_mb <= 0) {
    invalid("memory_mb must be a positive number, got " + format_number(function.memory_mb));
  }
  if (!std::isfinite(function.timeout_seconds) || function.timeout_seconds <= 0) {
    invalid("timeout_seconds must be a positive number, got " +
            format_number(function.timeout_seconds));
  }
  if (function.max_in_flight < 0) {
    invalid("max_in_flight must be 0 (no limit) or more, got " +
            std::to_string(function.max_in_flight));
  }
  if (function.isolation == Isolation::Process) {
    if (function.plugin.empty())
      invalid("isolation 'process' needs a plugin, not a native handler");
    if (function.max_workers < 1 || function.max_workers > kMaxWorkersLimit) {
      invalid("max_workers must be 1 to " + std::to_string(kMaxWorkersLimit) + ", got " +
              std::to_string(function.max_workers));
    }
  }
  if (!function.plugin_sha256.empty() && !is_sha256_hex(function.plugin_sha256)) {
    invalid("plugin_sha256 must be 64 lowercase hex digits (or empty: not pinned), got '" +
            function.plugin_sha256 + "'");
  }
  if (!function.plugin_sha256.empty() && function.plugin.empty()) {
    invalid("plugin_sha256 pins a plugin's content; a native handler has none");
  }
  if (require_plugin_file && !function.plugin.empty()) {
    std::error_code error;
    if (!std::filesystem::is_regular_file(function.plugin, error)) {
      invalid("plugin file not found: " + function.plugin.string());
    }
  }
}

}  // namespace edge
