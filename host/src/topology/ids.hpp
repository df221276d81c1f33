// The id rules shared by the topology file, the HTTP API and the cluster
// over NATS: node and function ids (and plugin names) end up in URLs and file
// names, the cluster's name in NATS subjects.
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

inline constexpr std::size_t kMaxClusterNameLength = 64;

// A cluster name: 1-64 of [A-Za-z0-9_-]. The id rule less '.', which
// neither a NATS subject token nor a JetStream bucket name may hold.
inline bool is_valid_cluster_name(std::string_view name) noexcept {
  return name.size() <= kMaxClusterNameLength && is_valid_id(name) &&
         name.find('.') == std::string_view::npos;
}

}  // namespace edge::topology_internal
