#include "plugin/loaded_plugin.hpp"

#include <edge/errors.hpp>

#include "plugin/elf_check.hpp"
#include "plugin/host_api.hpp"
#include "plugin/security_check.hpp"
#include "plugin/sha256.hpp"

#include <boost/dll/shared_library.hpp>
#include <boost/system/system_error.hpp>
#include <cstring>
#include <nlohmann/json.hpp>
#include <type_traits>

namespace edge {
namespace {

// The library plus its checked descriptor; shared by inspect and load.
struct CheckedLibrary {
  std::unique_ptr<boost::dll::shared_library> library;
  const edge_plugin_descriptor* descriptor = nullptr;
};

// C lets a plugin return any int as an edge_result, but in C++ an
// edge_result holds only the values of its enumerators (reading another one
// is undefined behaviour). So a hook's result is cast to the underlying type
// straight from the call, never read as an edge_result first, and mapped
// here: an unknown code fails like EDGE_ERROR, as the SDK header promises.
using RawResult = std::underlying_type_t<edge_result>;
edge_result known_result(RawResult raw) noexcept {
  if (raw == EDGE_OK) return EDGE_OK;
  if (raw == EDGE_DEADLINE_EXCEEDED) return EDGE_DEADLINE_EXCEEDED;
  return EDGE_ERROR;
}

[[noreturn]] void refuse(const PluginSource& source, const std::string& reason) {
  throw PluginError(plugin_label(source) + ": " + reason);
}

CheckedLibrary open_and_check(const std::filesystem::path& file, const PluginSource& source) {
  CheckedLibrary checked;
  std::error_code exists_error;
  if (!std::filesystem::is_regular_file(file, exists_error)) {
    refuse(source, "plugin file not found (no such file)");
  }
  if (const std::optional<std::string> problem = check_elf_file(file)) {
    refuse(source, "cannot be loaded as a shared library: " + *problem);
  }
  try {
    // rtld_now: a plugin with unresolved symbols fails here, not mid-call.
    checked.library = std::make_unique<boost::dll::shared_library>(
        file, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  } catch (const boost::system::system_error& error) {
    refuse(source, std::string("cannot be loaded as a shared library: ") + error.what());
  }
  if (!checked.library->has(EDGE_PLUGIN_ENTRY_SYMBOL)) {
    refuse(source, "does not export the entry symbol '" EDGE_PLUGIN_ENTRY_SYMBOL
                   "' (was it built with edge_add_plugin / EDGE_PLUGIN_EXPORT?)");
  }
  auto entry = checked.library->get<const edge_plugin_descriptor*()>(EDGE_PLUGIN_ENTRY_SYMBOL);
  const edge_plugin_descriptor* descriptor = entry();
  if (descriptor == nullptr) refuse(source, EDGE_PLUGIN_ENTRY_SYMBOL " returned a null descriptor");
  if (descriptor->abi_version != EDGE_ABI_VERSION) {
    refuse(source, "ABI version mismatch: the host expects " + std::to_string(EDGE_ABI_VERSION) +
                       ", the plugin was built for " + std::to_string(descriptor->abi_version));
  }
  if (descriptor->struct_size < EDGE_DESCRIPTOR_MIN_SIZE) {
    refuse(source, "descriptor too small: struct_size is " +
                       std::to_string(descriptor->struct_size) + " bytes, at least " +
                       std::to_string(EDGE_DESCRIPTOR_MIN_SIZE) + " expected");
  }
  if (descriptor->name == nullptr || descriptor->name[0] == '\0') {
    refuse(source, "descriptor has no name");
  }
  if (descriptor->invoke == nullptr) refuse(source, "descriptor has no invoke hook");
  checked.descriptor = descriptor;
  return checked;
}

PluginInfo describe(const std::filesystem::path& file, const edge_plugin_descriptor& descriptor) {
  PluginInfo info;
  info.file = file;
  info.name = descriptor.name;
  info.version = descriptor.version != nullptr ? descriptor.version : "";
  info.description = descriptor.description != nullptr ? descriptor.description : "";
  info.default_memory_mb = descriptor.default_memory_mb;
  info.default_timeout_ms = descriptor.default_timeout_ms;
  if (descriptor.required_capabilities != nullptr) {
    for (auto capability = descriptor.required_capabilities; *capability != nullptr; ++capability) {
      info.required_capabilities.emplace_back(*capability);
    }
  }
  info.serial = (descriptor.flags & EDGE_PLUGIN_SERIAL) != 0;
  return info;
}

}  // namespace

std::string plugin_label(const PluginSource& source) {
  std::string label = "plugin " + source.origin.string();
  if (!source.sha256.empty()) label += " (sha256 " + source.sha256 + ")";
  return label;
}

nlohmann::json PluginInfo::to_json() const {
  return {{"file", file.string()},
          {"name", name},
          {"version", version},
          {"description", description},
          {"default_memory_mb", default_memory_mb},
          {"default_timeout_ms", default_timeout_ms},
          {"required_capabilities", required_capabilities},
          {"serial", serial}};
}

PluginInfo inspect_plugin(const std::filesystem::path& file) {
  const CheckedLibrary checked = open_and_check(file, PluginSource{file, {}});
  return describe(file, *checked.descriptor);
}

std::unique_ptr<LoadedPlugin> LoadedPlugin::load(const std::filesystem::path& file,
                                                 const InitContext& context) {
  PluginSource source{file, {}};
  if (!context.pinned_sha256.empty()) {
    // Loading by path, the file could change between this hash and dlopen;
    // only a PluginStore maps exactly the bytes it hashed.
    std::string actual;
    try {
      actual = sha256_of_file(file);
    } catch (const std::system_error&) {
      return load(file, context, source);  // open_and_check names what is wrong with the file
    }
    if (actual != context.pinned_sha256) {
      throw PluginError(pin_mismatch_message(file, actual, std::string(context.function_id),
                                             std::string(context.pinned_sha256)));
    }
    source.sha256 = std::move(actual);
  }
  return load(file, context, source);
}

std::unique_ptr<LoadedPlugin> LoadedPlugin::load(const std::filesystem::path& file,
                                                 const InitContext& context,
                                                 const PluginSource& source) {
  CheckedLibrary checked = open_and_check(file, source);
  std::unique_ptr<LoadedPlugin> plugin(new LoadedPlugin());
  plugin->info_ = describe(source.origin, *checked.descriptor);
  plugin->sha256_ = source.sha256;
  plugin->descriptor_ = checked.descriptor;
  plugin->library_ = std::move(checked.library);
  if (plugin->info_.serial) plugin->serial_mutex_ = std::make_unique<std::mutex>();

  if (plugin->descriptor_->init != nullptr) {
    edge_call call;
    call.function_id = context.function_id;
    call.environment = context.environment;
    call.deadline = context.deadline;
    void* instance = nullptr;
    const edge_result result = known_result(
        static_cast<RawResult>(plugin->descriptor_->init(&host_api(), &call, &instance)));
    if (result != EDGE_OK) {
      // init failed: the plugin owns nothing we must shut down; just unload.
      plugin->descriptor_ = nullptr;
      throw PluginInitError(plugin_label(source) + ": init failed: " +
                            (call.error_set ? call.error : std::string("no message")));
    }
    plugin->instance_ = instance;
  }
  return plugin;
}

LoadedPlugin::~LoadedPlugin() {
  if (descriptor_ != nullptr && descriptor_->shutdown != nullptr) descriptor_->shutdown(instance_);
}

edge_result LoadedPlugin::call_invoke(edge_call& call, std::string_view input) const {
  return known_result(static_cast<RawResult>(
      descriptor_->invoke(instance_, &host_api(), &call,
                          reinterpret_cast<const uint8_t*>(input.data()), input.size())));
}

}  // namespace edge
