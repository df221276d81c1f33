// The topology's `security:` section: trusted signing keys, whether
// signatures are required, whether writable plugin files are tolerated
// (config/README.md documents each key).
#pragma once

#include <edge/plugin_security.hpp>

#include "topology/yaml_reader.hpp"

#include <filesystem>

namespace edge::topology_internal {

// Reads the section (absent: the defaults). Key paths are taken relative to
// `folder` (the topology file's directory), and each key file is read now:
// one that is not an Ed25519 public key is a ConfigError at its position.
PluginSecurityPolicy read_security(const ConfigContext& context, const MapReader& top,
                                   const std::filesystem::path& folder);

}  // namespace edge::topology_internal
