#include "plugin/security_check.hpp"

#include <edge/errors.hpp>

#include "plugin/file_permissions.hpp"

namespace edge {

PluginSecurityCheck::PluginSecurityCheck(PluginSecurityPolicy policy)
    : policy_(std::move(policy)), keys_(policy_.trusted_keys) {}

void PluginSecurityCheck::check(const std::filesystem::path& plugin,
                                const std::filesystem::path& content,
                                const std::string& label) const {
  if (!policy_.allow_writable_plugins) {
    if (const std::optional<std::string> problem = writable_plugin_problem(plugin)) {
      throw PluginError(*problem);  // names the plugin already
    }
  }
  if (policy_.checks_signatures()) keys_.verify(plugin, content, policy_.require_signatures, label);
}

std::string pin_mismatch_message(const std::filesystem::path& plugin, const std::string& actual,
                                 const std::string& function_id, const std::string& expected) {
  return "plugin " + plugin.string() + " has sha256 " + actual + ", but function '" + function_id +
         "' pins " + expected;
}

}  // namespace edge
