// The host side of the SDK's edge_call and edge_host_api: the per-call state a
// plugin reaches through its callbacks.
#pragma once

#include <edge/sdk.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

// Defined in the global namespace because sdk.h declares `struct edge_call`
// there. Lives on the calling thread's stack for the duration of one hook.
struct edge_call {
  std::string_view function_id;
  // OWNERSHIP: borrowed from the function version, which outlives the call.
  const std::map<std::string, std::string, std::less<>>* environment = nullptr;
  std::chrono::steady_clock::time_point deadline;
  std::string output;
  std::string error;
  bool error_set = false;
};

namespace edge {

// Where plugins' log lines go (the SDK's log callback). The default writes
// "[level] function ID: message" to stderr; edge-host installs one that
// writes through its structured logger. Set it before plugins run, and reset
// it (nullptr) before `context` goes away.
using PluginLogSink = void (*)(void* context, edge_log_level level, std::string_view function_id,
                               std::string_view message);
void set_plugin_log_sink(PluginLogSink sink, void* context) noexcept;
// Sends one plugin log line where the SDK's log callback would: for lines a
// process-isolated plugin logged in its worker.
void emit_plugin_log(edge_log_level level, std::string_view function_id,
                     std::string_view message) noexcept;

// A log level from outside C++ (a plugin's log call, a worker's Log frame):
// any value above EDGE_LOG_ERROR is EDGE_LOG_ERROR. Such a value must never
// be held in an edge_log_level first (in C++ it may only hold 0 to 3).
edge_log_level known_log_level(std::uint32_t raw) noexcept;

// The one callback table handed to every plugin. Static storage: valid for
// the life of the process, so no plugin can outlive it.
const edge_host_api& host_api() noexcept;

}  // namespace edge
