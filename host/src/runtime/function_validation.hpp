// The checks every deploy runs, whether on one runtime or across a cluster.
#pragma once

#include <edge/models.hpp>

namespace edge {

// Throws DeploymentError naming the function and the problem: empty id, not
// exactly one of handler/plugin, memory_mb or timeout_seconds not a positive
// finite number, plugin file missing (checked only if `require_plugin_file`).
void validate_function(const EdgeFunction& function, bool require_plugin_file = true);

}  // namespace edge
