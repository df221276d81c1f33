// What a plugin file must satisfy before the host maps it, beyond being a
// valid plugin: who may have written it (file modes) and who signed it
// (Ed25519 detached signatures). The `security:` section of the topology
// (config/README.md); edge-host hands it to its PluginStore, which checks it
// at every load, and the topology loader checks it at load (`--check`).
#pragma once

#include <filesystem>
#include <vector>

namespace edge {

struct PluginSecurityPolicy {
  // PEM Ed25519 public keys (absolute paths). A plugin's signature is the
  // file <plugin>.sig next to it: the base64 Ed25519 signature of the
  // plugin's exact bytes. With keys given, a present signature must verify
  // with one of them.
  std::vector<std::filesystem::path> trusted_keys;
  // Every plugin must carry a signature that verifies with a trusted key.
  bool require_signatures = false;
  // Off: a plugin file, or the directory it is in, that group or others may
  // write (mode & 022) is refused, as sshd's StrictModes refuses keys.
  bool allow_writable_plugins = false;

  // Whether any signature check applies.
  bool checks_signatures() const noexcept { return require_signatures || !trusted_keys.empty(); }
  friend bool operator==(const PluginSecurityPolicy&, const PluginSecurityPolicy&) = default;
};

}  // namespace edge
