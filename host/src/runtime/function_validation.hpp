// The checks every deploy runs, whether on one runtime or across a cluster.
#pragma once

#include <edge/models.hpp>

namespace edge {

// The most worker processes one function may have.
inline constexpr int kMaxWorkersLimit = 64;

// Throws DeploymentError naming the function and the problem: empty id, not
// exactly one of handler/plugin, memory_mb or timeout_seconds not a positive
// finite number, process isolation without a plugin or with
// max_workers outside 1..kMaxWorkersLimit, plugin file missing (checked only if
// `require_plugin_file`).
void validate_function(const EdgeFunction& function, bool require_plugin_file = true);

}  // namespace edge
