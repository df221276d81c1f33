// The id rule shared by the topology file and the HTTP API: node and
// function ids (and plugin names) end up in URLs and file names.
#pragma once

#include <cstddef>
#include <string_view>

namespace edge::topology_internal {

inline constexpr std::size_t kMaxIdLength = 128;

// 1-128 of [A-Za-z0-9._-], not "." or "..".
inline bool is_valid_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxIdLength || id == "." || id == "..") return false;
  for (const char character : id) {
    const bool allowed = (character >= 'a' && character <= 'z') ||
                         (character >= 'A' && character <= 'Z') ||
                         (character >= '0' && character <= '9') || character == '.' ||
                         character == '_' || character == '-';
    if (!allowed) return false;
  }
  return true;
}

}  // namespace edge::topology_internal
