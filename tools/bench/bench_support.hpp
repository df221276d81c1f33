// Shared by the benchmark programs: where the example plugins are, and the
// small input every invoke benchmark sends.
#pragma once

#include <edge/models.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace edge::bench {

// 16 bytes: one past std::string's inline capacity, so the output copy is a
// heap allocation in the runtime and in the direct-call baseline alike.
inline constexpr std::string_view kSmallInput = "0123456789abcdef";

inline std::filesystem::path plugin_path(std::string_view name) {
  return std::filesystem::path(EDGE_BENCH_PLUGIN_DIR) / (std::string(name) + ".so");
}

// The echo plugin deployed as function `id`.
inline EdgeFunction echo_function(std::string id) {
  EdgeFunction function;
  function.id = std::move(id);
  function.name = "echo";
  function.plugin = plugin_path("echo");
  function.memory_mb = 16;
  function.timeout_seconds = 1;
  return function;
}

// A native handler that returns its input, deployed as function `id`.
inline EdgeFunction native_echo_function(std::string id) {
  EdgeFunction function;
  function.id = std::move(id);
  function.name = "native-echo";
  function.handler = [](std::string_view input) { return std::string(input); };
  function.memory_mb = 16;
  function.timeout_seconds = 1;
  return function;
}

inline EdgeNode bench_node(std::string id) {
  EdgeNode node;
  node.id = std::move(id);
  node.name = node.id;
  node.location = "bench";
  node.max_functions = 100;
  return node;
}

}  // namespace edge::bench
