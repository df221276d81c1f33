#include "plugin/host_api.hpp"

#include <algorithm>
#include <cstdio>
#include <new>

namespace edge {
namespace {

const char* get_env(const edge_call* call, const char* name, size_t* value_size) {
  if (call == nullptr || name == nullptr || call->environment == nullptr) return nullptr;
  const auto found = call->environment->find(std::string_view(name));
  if (found == call->environment->end()) return nullptr;
  if (value_size != nullptr) *value_size = found->second.size();
  return found->second.data();
}

void log(const edge_call* call, edge_log_level level, const char* message, size_t size) {
  static constexpr const char* kLevels[] = {"debug", "info", "warn", "error"};
  const auto index = std::clamp(static_cast<int>(level), 0, 3);
  const std::string_view id = call != nullptr ? call->function_id : std::string_view("?");
  std::fprintf(stderr, "[%s] function %.*s: %.*s\n", kLevels[index], static_cast<int>(id.size()),
               id.data(), message != nullptr ? static_cast<int>(size) : 0,
               message != nullptr ? message : "");
}

int64_t remaining_ms(const edge_call* call) {
  if (call == nullptr) return 0;
  const auto left = call->deadline - std::chrono::steady_clock::now();
  return std::max<int64_t>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count());
}

int set_output(edge_call* call, const void* data, size_t size) {
  if (call == nullptr || (data == nullptr && size != 0)) return -1;
  try {
    call->output.assign(static_cast<const char*>(data), size);
  } catch (const std::bad_alloc&) {
    return -1;
  }
  return 0;
}

void set_error(edge_call* call, const char* message, size_t size) {
  if (call == nullptr) return;
  try {
    call->error.assign(message != nullptr ? message : "", message != nullptr ? size : 0);
  } catch (const std::bad_alloc&) {
    call->error.clear();
  }
  call->error_set = true;
}

constexpr edge_host_api kHostApi = {
    sizeof(edge_host_api), EDGE_ABI_VERSION, get_env, log, remaining_ms, set_output, set_error,
};

}  // namespace

const edge_host_api& host_api() noexcept { return kHostApi; }

}  // namespace edge
