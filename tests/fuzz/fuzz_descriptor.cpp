// The plugin descriptor checks (host/src/plugin/loaded_plugin.cpp) on a
// descriptor built from fuzz bytes by fuzzed_descriptor_plugin.so (see that
// file for the byte layout). Every input is loaded the three ways the host
// loads a plugin: inspect_plugin (topology files, PUT /v1/functions), the
// plugin's defaults applied to a function (apply_plugin_defaults), and a cold
// start plus one call through an EdgeRuntime. A load must succeed or fail
// closed with PluginError; a call may fail only with the runtime's errors.
#include "plugin/host_api.hpp"
#include "topology/function_rules.hpp"

#include <edge/errors.hpp>
#include <edge/plugin.hpp>
#include <edge/runtime.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

// Read by the plugin through dlsym (the executable exports its symbols).
extern "C" {
struct edge_fuzz_input {
  const unsigned char* data;
  std::size_t size;
};
__attribute__((visibility("default"))) edge_fuzz_input edge_fuzz_descriptor_input{nullptr, 0};
}

namespace {

const char* const kPlugin = EDGE_FUZZ_DESCRIPTOR_PLUGIN;

// The plugin's log lines (with fuzzed levels) end here instead of stderr. The
// level indexes a table, as edge-host's sink does: out of range, ASan says so.
void quiet_sink(void*, edge_log_level level, std::string_view, std::string_view message) {
  static constexpr int kSeen[] = {0, 1, 2, 3};
  volatile int seen = kSeen[level] + static_cast<int>(message.size());
  (void)seen;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  edge::set_plugin_log_sink(&quiet_sink, nullptr);
  // Keeps the plugin mapped between the host's loads, so that the plugin's
  // bookkeeping of the previous descriptor survives the host's dlclose.
  if (dlopen(kPlugin, RTLD_NOW | RTLD_LOCAL) == nullptr) {
    std::fprintf(stderr, "fuzz_descriptor: cannot load %s: %s\n", kPlugin, dlerror());
    std::abort();
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  edge_fuzz_descriptor_input = {data, size};

  try {
    const edge::PluginInfo info = edge::inspect_plugin(kPlugin);
    if (info.name.empty()) std::abort();  // the checks let a nameless plugin through
    edge::EdgeFunction function("fuzzed");
    function.plugin = kPlugin;
    (void)edge::topology_internal::apply_plugin_defaults(function, info, {});
  } catch (const edge::PluginError&) {
  }

  edge::EdgeRuntime runtime(edge::EdgeNode("fuzz-node"));
  edge::EdgeFunction function("fuzzed");
  function.plugin = kPlugin;
  runtime.deploy(function);
  try {
    (void)runtime.invoke("fuzzed", "input");
  } catch (const edge::EdgeExecutionError&) {  // PluginError and TimeoutError included
  }
  return 0;
}
