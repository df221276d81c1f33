// The host's models in the protocol's JSON (inventories, desired state), in
// both directions. Encoding reuses the models' own to_json where it carries
// what the protocol needs; the decoders check every field they read and throw
// ProtocolError naming it (json_fields.hpp).
#pragma once

#include "fleet/json_fields.hpp"

#include <edge/models.hpp>
#include <edge/stats.hpp>

#include <nlohmann/json.hpp>

#include <optional>
#include <string_view>

namespace edge::fleet {

// The inverse of to_string(EdgeNodeStatus); nullopt for any other text.
std::optional<EdgeNodeStatus> parse_node_status(std::string_view text) noexcept;

// EdgeNode::to_json's fields: id, name, location, status, capabilities,
// max_functions and resources (last_heartbeat is the receiver's to keep).
EdgeNode node_from_json(const JsonFields& fields);

// FunctionStats::to_json's fields a controller shows: the counters, the
// durations, is_warm, plugin_sha256, last_error and isolation (not the
// histograms, the quarantine or the sandbox block).
FunctionStats stats_from_json(const JsonFields& fields, std::string_view function_id);

// A function's definition without its plugin path and handler (a node loads
// its own verified copy of the plugin): id, name, memory_mb,
// timeout_seconds, environment, required_capabilities, max_in_flight,
// isolation, max_workers, idempotent, plugin_sha256.
nlohmann::json function_to_json(const EdgeFunction& function);
// The inverse: a valid id, positive finite memory and timeout, max_workers
// 1..64, plugin_sha256 empty or 64 lowercase hex digits.
EdgeFunction function_from_json(const JsonFields& fields);

}  // namespace edge::fleet
