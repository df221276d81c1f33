#include "topology/security_section.hpp"

#include "plugin/signature.hpp"

namespace edge::topology_internal {
namespace {

std::vector<std::filesystem::path> read_trusted_keys(const ConfigContext& context,
                                                     const Value& list,
                                                     const std::filesystem::path& folder) {
  require_list(context, list);
  std::vector<std::filesystem::path> keys;
  std::size_t index = 0;
  for (const YAML::Node& node : list.node) {
    const Value item{node, position_of(node), list.path + "[" + std::to_string(index++) + "]"};
    const std::filesystem::path key =
        (folder / read_string(context, item, false)).lexically_normal();
    try {
      (void)Ed25519Key::read_public(key);
    } catch (const Error& error) {
      context.fail(item.where, item.path + ": " + error.what());
    }
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

PluginSecurityPolicy read_security(const ConfigContext& context, const MapReader& top,
                                   const std::filesystem::path& folder) {
  PluginSecurityPolicy policy;
  const Entry* entry = top.find("security");
  if (entry == nullptr || entry->value_node.IsNull()) return policy;
  const MapReader fields(context, top.value_of(*entry));
  fields.check_keys({"trusted_keys", "require_signatures", "allow_writable_plugins"}, "security");
  Position require_position;
  for (const Entry& field : fields.entries()) {
    const Value value = fields.value_of(field);
    if (field.key == "trusted_keys") {
      policy.trusted_keys = read_trusted_keys(context, value, folder);
    } else if (field.key == "require_signatures") {
      policy.require_signatures = read_boolean(context, value);
      require_position = value.where;
    } else {
      policy.allow_writable_plugins = read_boolean(context, value);
    }
  }
  if (policy.require_signatures && policy.trusted_keys.empty()) {
    context.fail(require_position,
                 "security.require_signatures: true needs at least one key in "
                 "security.trusted_keys (no signature could ever verify)");
  }
  return policy;
}

}  // namespace edge::topology_internal
