// A plugin library that is loaded, checked and initialised: one instance of
// an edge function's code. Destroying it runs the plugin's shutdown hook and
// unloads the library.
#pragma once

#include <edge/plugin.hpp>
#include <edge/sdk.h>

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

class LoadedPlugin {
 public:
  // What init needs to know about the function it serves.
  struct InitContext {
    std::string_view function_id;
    const std::map<std::string, std::string, std::less<>>* environment = nullptr;
    std::chrono::steady_clock::time_point deadline;
  };

  // Loads `file`, checks its descriptor and runs init. Throws PluginError
  // naming the file and the reason; nothing stays loaded on failure.
  static std::unique_ptr<LoadedPlugin> load(const std::filesystem::path& file,
                                            const InitContext& context);
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
  std::unique_ptr<std::mutex> serial_mutex_;  // set only for EDGE_PLUGIN_SERIAL
};

}  // namespace edge
