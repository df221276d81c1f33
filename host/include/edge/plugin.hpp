// What a plugin file says about itself, read without running its init.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace edge {

struct PluginInfo {
  std::filesystem::path file;
  std::string name;
  std::string version;
  std::string description;
  std::uint32_t default_memory_mb = 0;   // 0: the host's default
  std::uint32_t default_timeout_ms = 0;  // 0: the host's default
  std::vector<std::string> required_capabilities;
  bool serial = false;  // calls must not overlap

  nlohmann::json to_json() const;
};

// Loads the library, checks its descriptor (ABI version, size, required
// hooks) and copies what it says; unloads it again. Throws PluginError naming
// the file and the reason.
PluginInfo inspect_plugin(const std::filesystem::path& file);

}  // namespace edge
