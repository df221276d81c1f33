// The spec's data types: nodes, their resources, functions, and SyncState.
// Plain values: not thread-safe on their own; the runtime and the cluster
// hand out copies (snapshots).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

enum class EdgeNodeStatus : std::uint8_t { Online, Offline, Degraded, Syncing, Maintenance };

// "online", "offline", "degraded", "syncing", "maintenance".
std::string_view to_string(EdgeNodeStatus status) noexcept;

struct ResourceUsage {
  double cpu_percent = 0;       // 0-100
  double memory_mb = 0;         // in use
  double memory_max_mb = 1024;  // available to functions

  // memory_mb / memory_max_mb * 100, or 0 when memory_max_mb is 0.
  double memory_percent() const noexcept;
  // CPU above 90 % or memory above 90 %.
  bool is_overloaded() const noexcept;
  // True when every figure is finite and not negative, and cpu <= 100.
  bool is_valid() const noexcept;
  nlohmann::json to_json() const;
};

struct EdgeNode {
  EdgeNode() = default;
  // A node named after its id unless a name is given.
  explicit EdgeNode(std::string node_id, std::string node_name = {}, std::string node_location = {})
      : id(std::move(node_id)),
        name(node_name.empty() ? id : std::move(node_name)),
        location(std::move(node_location)) {}

  std::string id;
  std::string name;
  std::string location;
  EdgeNodeStatus status = EdgeNodeStatus::Online;
  std::vector<std::string> capabilities;
  ResourceUsage resources;
  int max_functions = 10;
  std::chrono::steady_clock::time_point last_heartbeat = std::chrono::steady_clock::now();

  // Refreshes last_heartbeat.
  void heartbeat() noexcept { last_heartbeat = std::chrono::steady_clock::now(); }
  // Online and not overloaded.
  bool is_healthy() const noexcept;
  bool has_capability(std::string_view capability) const noexcept;
  nlohmann::json to_json() const;
};

// Where a function's plugin runs: in the host process (fast; the plugin is
// trusted), or in worker processes (contained: see edge/sandbox.hpp).
enum class Isolation : std::uint8_t { None, Process };

// "none", "process".
std::string_view to_string(Isolation isolation) noexcept;
// The inverse of to_string; nullopt for any other text.
std::optional<Isolation> parse_isolation(std::string_view text) noexcept;

// A native handler: input bytes in, output bytes out; throws to fail.
using EdgeHandler = std::function<std::string(std::string_view input)>;

struct EdgeFunction {
  EdgeFunction() = default;
  // A function named after its id unless a name is given.
  explicit EdgeFunction(std::string function_id, std::string function_name = {})
      : id(std::move(function_id)), name(function_name.empty() ? id : std::move(function_name)) {}

  std::string id;
  std::string name;
  EdgeHandler handler;           // a native function, or
  std::filesystem::path plugin;  // the plugin .so that implements it
  // The SHA-256 (64 lowercase hex digits) the plugin file's content must
  // have: a load of any other content is refused, and hot reload does not
  // switch to it. Empty: not pinned.
  std::string plugin_sha256;
  double memory_mb = 128;
  double timeout_seconds = 30;
  std::map<std::string, std::string> environment;
  std::vector<std::string> required_capabilities;
  // Calls allowed to run at once; further calls fail fast with BusyError.
  // 0: no limit.
  int max_in_flight = 0;
  // `Process`: each call runs in a worker process that is killed at the
  // deadline, held to memory_mb, and whose crash fails only that call. Plugin
  // functions only.
  Isolation isolation = Isolation::None;
  // Process isolation: worker processes serving calls at once; further calls
  // queue (bounded), each worker serves one call at a time.
  int max_workers = 1;
  // Calling it twice with the same input does no harm: a call whose node did
  // not answer is retried on another node (only then).
  bool idempotent = false;

  // The node has every required capability and enough memory.
  bool can_run_on(const EdgeNode& node) const noexcept;
  // Why the node cannot run this function ("missing capability 'gpu'",
  // "not enough memory: ..."), or nullopt when it can.
  std::optional<std::string> unmet_requirement(const EdgeNode& node) const;
  nlohmann::json to_json() const;
};

// A payload with a version and its checksum, for syncing data to nodes.
// The MD5 checksum detects accidental corruption only; it is not a security
// measure (plugin integrity uses SHA-256).
struct SyncState {
  std::string data;
  std::int64_t version = 0;
  std::string checksum;  // lowercase hex MD5 of data

  static SyncState from_data(std::string data, std::int64_t version);
  bool verify() const;
};

}  // namespace edge
