// The host side of the SDK's edge_call and edge_host_api: the per-call state a
// plugin reaches through its callbacks.
#pragma once

#include <edge/sdk.h>

#include <chrono>
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

// The one callback table handed to every plugin. Static storage: valid for
// the life of the process, so no plugin can outlive it.
const edge_host_api& host_api() noexcept;

}  // namespace edge
