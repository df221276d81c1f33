// The messages of the cluster protocol other than heartbeats
// (heartbeat_message.hpp) and artifact chunks (artifact_transfer.hpp):
// calls, node inventories and desired state. See
// docs/design/cluster-over-nats.md for who sends what on which subject.
//
// Calls carry bytes as bytes (no JSON, no base64): one request and one reply
// is what the remote-invoke latency budget allows. Inventories and desired
// state are JSON, readable with any NATS client.
//
// Every decoder throws ProtocolError (heartbeat_message.hpp) naming the field
// or part that is wrong.
#pragma once

#include "fleet/artifact_transfer.hpp"
#include "fleet/heartbeat_message.hpp"

#include <edge/cluster.hpp>
#include <edge/models.hpp>
#include <edge/runtime.hpp>
#include <edge/stats.hpp>

#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

namespace edge::fleet {

// ---- Calls (request on edge.<cluster>.call.<node>) ------------------------
// Request: "<function id>\n<input bytes>".
std::string encode_call(std::string_view function_id, std::string_view input);
struct CallRequest {
  std::string_view function_id;  // views into the payload
  std::string_view input;
};
CallRequest decode_call(std::string_view payload);

// Reply: one outcome byte, then for Ok "<cold 0|1> <duration_ns>\n<output>",
// otherwise the error message. Unknown: the node does not run the function;
// NotReady: it is still fetching the plugin, or its sync failed.
enum class CallOutcome : char {
  Ok = 'K',
  Error = 'E',    // EdgeExecutionError
  Timeout = 'T',  // TimeoutError
  Plugin = 'P',   // PluginError
  Busy = 'B',     // BusyError
  Crash = 'C',    // WorkerCrashError
  Memory = 'M',   // MemoryLimitError
  Circuit = 'O',  // CircuitOpenError ("<retry_after_seconds> <message>")
  Unknown = 'U',  // std::invalid_argument from the runtime
  NotReady = 'N',
};
std::string encode_call_result(const EdgeRuntime::CallResult& result);
std::string encode_call_failure(CallOutcome outcome, std::string_view message);
// The reply for what EdgeRuntime::invoke threw (call from a catch block).
std::string encode_call_exception(std::exception_ptr error);
// The result, or throws what the node's runtime threw (TimeoutError,
// BusyError, ... with the node's message, prefixed by "node '<id>': "),
// std::invalid_argument for Unknown, EdgeExecutionError for NotReady.
EdgeRuntime::CallResult decode_call_reply(std::string_view payload, std::string_view node_id);

// ---- Inventory (reply on edge.<cluster>.inv.<node>) ------------------------
// What a node runs and how its copies are doing; the heartbeat carries its
// digest, and the controller asks for it when the digest changes.
enum class CopyState : std::uint8_t { Ready, Syncing, Failed };
std::string_view to_string(CopyState state) noexcept;

struct InventoryEntry {
  std::string function_id;
  // The plugin content the node runs or fetches; empty only for a Failed
  // copy whose desired state could not be read.
  std::string sha256;
  CopyState state = CopyState::Ready;
  std::string error;    // why Failed (a SyncError's message), else empty
  FunctionStats stats;  // the node's counters for the function
};

struct Inventory {
  static constexpr int kVersion = 1;
  EdgeNode node;  // id, name, location, capabilities, max_functions, status, resources
  std::string boot_id;
  std::vector<InventoryEntry> functions;  // sorted by function id

  // Hex SHA-256 over what placement depends on: the node's metadata (not its
  // resource figures, which heartbeats carry) and every entry's id, sha256,
  // state and error (not the counters).
  std::string digest() const;
};
std::string encode(const Inventory& inventory);
Inventory decode_inventory(std::string_view payload);

// ---- Desired state (KV bucket edge_<cluster>_desired, key "<node>.<function>")
// One function placed on one node by the controller. The definition travels
// without its plugin path: the node fetches the artifact by SHA-256 and loads
// its own verified copy.
struct DesiredCopy {
  static constexpr int kVersion = 1;
  EdgeFunction function;  // plugin left empty; plugin_sha256 = artifact.sha256
  Placement placement = Placement::All;
  ArtifactManifest artifact;
};
std::string encode(const DesiredCopy& copy);
// A function.plugin_sha256 left empty is taken to be artifact.sha256; one
// that names other content is refused (the copy contradicts itself).
DesiredCopy decode_desired(std::string_view payload);

}  // namespace edge::fleet
