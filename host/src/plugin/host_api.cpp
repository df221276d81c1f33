#include "plugin/host_api.hpp"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>
#include <type_traits>

namespace edge {
namespace {

const char* get_env(const edge_call* call, const char* name, size_t* value_size) {
  if (call == nullptr || name == nullptr || call->environment == nullptr) return nullptr;
  const auto found = call->environment->find(std::string_view(name));
  if (found == call->environment->end()) return nullptr;
  if (value_size != nullptr) *value_size = found->second.size();
  return found->second.data();
}

struct LogSink {
  std::atomic<PluginLogSink> sink{nullptr};
  std::atomic<void*> context{nullptr};
};
LogSink& log_sink() {
  static LogSink instance;
  return instance;
}

void log(const edge_call* call, edge_log_level level, const char* message, size_t size) {
  const std::string_view id = call != nullptr ? call->function_id : std::string_view("?");
  const std::string_view text =
      message != nullptr ? std::string_view(message, size) : std::string_view();
  // The plugin (C) may pass any int: copy the bits, never read `level` as
  // an edge_log_level.
  std::underlying_type_t<edge_log_level> raw = 0;
  std::memcpy(&raw, &level, sizeof raw);
  emit_plugin_log(known_log_level(static_cast<std::uint32_t>(raw)), id, text);
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

edge_log_level known_log_level(std::uint32_t raw) noexcept {
  return raw <= EDGE_LOG_ERROR ? static_cast<edge_log_level>(raw) : EDGE_LOG_ERROR;
}

void emit_plugin_log(edge_log_level level, std::string_view id, std::string_view text) noexcept {
  if (const PluginLogSink sink = log_sink().sink.load(std::memory_order_acquire)) {
    sink(log_sink().context.load(std::memory_order_acquire), level, id, text);
    return;
  }
  static constexpr const char* kLevels[] = {"debug", "info", "warn", "error"};
  const auto index = std::clamp(static_cast<int>(level), 0, 3);
  std::fprintf(stderr, "[%s] function %.*s: %.*s\n", kLevels[index], static_cast<int>(id.size()),
               id.data(), static_cast<int>(text.size()), text.data());
}

void set_plugin_log_sink(PluginLogSink sink, void* context) noexcept {
  // Context first: a call that sees the new sink sees its context.
  log_sink().context.store(context, std::memory_order_release);
  log_sink().sink.store(sink, std::memory_order_release);
}

}  // namespace edge
