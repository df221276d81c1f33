#include "topology/function_rules.hpp"

#include <system_error>

namespace edge::topology_internal {

bool is_valid_environment_name(std::string_view name) noexcept {
  if (name.empty() || (name.front() >= '0' && name.front() <= '9')) return false;
  for (const char character : name) {
    const bool allowed = (character >= 'a' && character <= 'z') ||
                         (character >= 'A' && character <= 'Z') ||
                         (character >= '0' && character <= '9') || character == '_';
    if (!allowed) return false;
  }
  return true;
}

std::filesystem::path plugin_path_for_name(const std::filesystem::path& plugin_dir,
                                           std::string_view name) {
  return (plugin_dir / (std::string(name) + ".so")).lexically_normal();
}

std::optional<std::string> plugin_file_problem(const std::filesystem::path& path) {
  std::error_code error;
  const std::filesystem::file_status status = std::filesystem::status(path, error);
  if (!std::filesystem::exists(status)) return "not found: " + path.string();
  if (!std::filesystem::is_regular_file(status)) return "is not a file: " + path.string();
  return std::nullopt;
}

std::optional<std::string> normalize_sha256(std::string_view text) {
  if (text.size() != 64) return std::nullopt;
  std::string lowercase;
  lowercase.reserve(text.size());
  for (const char character : text) {
    if (character >= '0' && character <= '9') {
      lowercase.push_back(character);
    } else if ((character >= 'a' && character <= 'f') || (character >= 'A' && character <= 'F')) {
      lowercase.push_back(static_cast<char>(character | 0x20));
    } else {
      return std::nullopt;
    }
  }
  return lowercase;
}

std::optional<std::string> apply_plugin_defaults(EdgeFunction& function, const PluginInfo& info,
                                                 const GivenFields& given) {
  if (!given.memory_mb && info.default_memory_mb != 0) {
    if (info.default_memory_mb > kMaxFunctionMemoryMb) {
      return "asks for " + std::to_string(info.default_memory_mb) +
             " MB by default, more than allowed; set memory_mb";
    }
    function.memory_mb = info.default_memory_mb;
  }
  if (!given.timeout_seconds && info.default_timeout_ms != 0) {
    if (info.default_timeout_ms / 1000.0 > kMaxSeconds) {
      return "has a default timeout of " + std::to_string(info.default_timeout_ms) +
             " ms, more than allowed; set timeout_seconds";
    }
    function.timeout_seconds = info.default_timeout_ms / 1000.0;
  }
  if (!given.required_capabilities) function.required_capabilities = info.required_capabilities;
  return std::nullopt;
}

}  // namespace edge::topology_internal
