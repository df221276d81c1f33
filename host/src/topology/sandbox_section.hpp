// The topology's `sandbox:` section: how edge-host runs process-isolated
// functions (config/README.md lists the keys).
#pragma once

#include <edge/sandbox.hpp>

#include "topology/yaml_reader.hpp"

namespace edge::topology_internal {

// Reads `sandbox:` from the top-level map into `options`; absent or empty
// leaves the defaults.
void read_sandbox_section(const ConfigContext& context, const MapReader& top,
                          SandboxOptions& options);

}  // namespace edge::topology_internal
