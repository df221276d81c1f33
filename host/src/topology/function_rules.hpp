// What a function definition must respect, and how its plugin's descriptor
// fills what the definition leaves out. The topology loader and the HTTP
// API's PUT /v1/functions/{id} both apply these, so that a function means the
// same whichever way it was deployed (config/README.md documents them).
#pragma once

#include <edge/models.hpp>
#include <edge/plugin.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edge::topology_internal {

// Upper bounds keep every figure convertible to std::chrono durations later.
inline constexpr double kMaxSeconds = 86'400;
inline constexpr double kMaxFunctionMemoryMb = 1'048'576;  // 1 TiB

// Environment variable names: letters, digits and _, not starting with a
// digit (plugins look them up as C strings; a sandboxed worker may one day
// get them as real environment variables).
bool is_valid_environment_name(std::string_view name) noexcept;

// <plugin_dir>/<name>.so for a plugin name (see is_valid_id).
std::filesystem::path plugin_path_for_name(const std::filesystem::path& plugin_dir,
                                           std::string_view name);

// Why `path` cannot be a plugin file ("not found: /p/x.so", "is not a file:
// /p/x"), or nullopt when it is a regular file.
std::optional<std::string> plugin_file_problem(const std::filesystem::path& path);

// A SHA-256 pin as written (64 hex digits, either case) in lowercase, or
// nullopt when it is not one.
std::optional<std::string> normalize_sha256(std::string_view text);

// Which optional fields the definition wrote itself.
struct GivenFields {
  bool memory_mb = false;
  bool timeout_seconds = false;
  bool required_capabilities = false;
};

// Fills the fields not given from the descriptor (whose 0 means "the host's
// default", which EdgeFunction already holds). Returns why the descriptor's
// default cannot be used ("asks for 2000000 MB by default, more than allowed;
// set memory_mb"), or nullopt; the caller says where.
std::optional<std::string> apply_plugin_defaults(EdgeFunction& function, const PluginInfo& info,
                                                 const GivenFields& given);

}  // namespace edge::topology_internal
