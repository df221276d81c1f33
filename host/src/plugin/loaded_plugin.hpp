// A plugin library that is loaded, checked and initialised: one instance of
// an edge function's code. Destroying it runs the plugin's shutdown hook and
// unloads the library.
#pragma once

#include <edge/sdk.h>
#include <edge/errors.hpp>
#include <edge/plugin.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace boost::dll {
class shared_library;
}

namespace edge {

// What init needs to know about the function it serves.
struct PluginInitContext {
  std::string_view function_id;
  const std::map<std::string, std::string, std::less<>>* environment = nullptr;
  std::chrono::steady_clock::time_point deadline;
  // The function's EdgeFunction::plugin_sha256: a content with another hash
  // is refused before it is opened. Empty: not pinned.
  std::string_view pinned_sha256;
};

// Where a loaded file came from, when it is a copy (PluginStore loads
// content-addressed copies): errors and info() name the original file and
// the hash, not the cache path.
struct PluginSource {
  std::filesystem::path origin;
  std::string sha256;  // of the bytes loaded; empty when unknown
};

// "plugin <origin>" or "plugin <origin> (sha256 <hash>)": how every load
// error begins.
std::string plugin_label(const PluginSource& source);

// The plugin passed every check but its init hook failed. Separate from the
// other load failures because it may depend on the function's environment,
// not only on the file (PluginStore quarantines it per function).
class PluginInitError : public PluginError {
 public:
  using PluginError::PluginError;
};

class LoadedPlugin {
 public:
  using InitContext = PluginInitContext;

  // Loads `file`, checks its descriptor and runs init. Throws PluginError
  // (PluginInitError when init fails) naming the file and the reason;
  // nothing stays loaded on failure.
  static std::unique_ptr<LoadedPlugin> load(const std::filesystem::path& file,
                                            const InitContext& context);
  // As above for a copy of `source.origin`: messages and info().file name
  // the origin (and the hash), not `file`.
  static std::unique_ptr<LoadedPlugin> load(const std::filesystem::path& file,
                                            const InitContext& context, const PluginSource& source);
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  // Calls the plugin's invoke hook (serialised if the plugin asked for it).
  edge_result invoke(edge_call& call, std::string_view input) const {
    if (serial_mutex_) {
      std::lock_guard lock(*serial_mutex_);
      return call_invoke(call, input);
    }
    return call_invoke(call, input);
  }

  const PluginInfo& info() const noexcept { return info_; }
  // SHA-256 of the loaded bytes, as given in PluginSource (empty if not given).
  const std::string& sha256() const noexcept { return sha256_; }
  // The raw invoke pointer (benchmarks compare against a direct call).
  const edge_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
  void* instance() const noexcept { return instance_; }

 private:
  LoadedPlugin() = default;
  edge_result call_invoke(edge_call& call, std::string_view input) const;

  std::unique_ptr<boost::dll::shared_library> library_;
  const edge_plugin_descriptor* descriptor_ = nullptr;
  void* instance_ = nullptr;
  PluginInfo info_;
  std::string sha256_;
  std::unique_ptr<std::mutex> serial_mutex_;  // set only for EDGE_PLUGIN_SERIAL
};

}  // namespace edge
