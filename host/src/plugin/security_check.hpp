// The checks of a PluginSecurityPolicy on one plugin file: its mode and its
// directory's (unless allowed), then its signature. Shared by the
// PluginStore (every load, against the bytes it maps) and the topology
// loader (so `edge-host --check` reports them with line:column).
//
// Thread-safety: immutable once built; check() may run on any thread.
#pragma once

#include <edge/plugin_security.hpp>

#include "plugin/signature.hpp"

#include <filesystem>
#include <string>

namespace edge {

class PluginSecurityCheck {
 public:
  // Reads the trusted keys. Throws edge::Error naming a key file that cannot
  // be used.
  explicit PluginSecurityCheck(PluginSecurityPolicy policy = {});

  const PluginSecurityPolicy& policy() const noexcept { return policy_; }

  // Throws PluginError: "<label>: <reason>" for a signature, the
  // writable_plugin_problem text (which names the plugin) for a mode. `content` holds the bytes
  // that will be mapped (the store's copy; else the plugin itself): those are what the signature
  // must cover.
  void check(const std::filesystem::path& plugin, const std::filesystem::path& content,
             const std::string& label) const;

 private:
  PluginSecurityPolicy policy_;
  TrustedKeys keys_;
};

// The refusal of a content whose hash is not the one a function pins:
// "plugin <file> has sha256 <actual>, but function '<id>' pins <expected>".
std::string pin_mismatch_message(const std::filesystem::path& plugin, const std::string& actual,
                                 const std::string& function_id, const std::string& expected);

}  // namespace edge
