#include "fleet/protocol.hpp"

#include "fleet/json_fields.hpp"
#include "fleet/json_models.hpp"
#include "plugin/sha256.hpp"
#include "topology/ids.hpp"

#include <edge/errors.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <stdexcept>

namespace edge::fleet {
namespace {

using nlohmann::json;

// An id out of a message, quoted for an error message; a long one cut short.
std::string quoted(std::string_view text) {
  constexpr std::size_t kShown = 64;
  return "\"" + std::string(text.substr(0, kShown)) + (text.size() > kShown ? "...\"" : "\"");
}

std::string format_seconds(double seconds) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, seconds);
  return error == std::errc() ? std::string(buffer, end) : std::string("0");
}

CallOutcome outcome_of(char byte, std::string_view node_id) {
  switch (byte) {
    case 'K':
    case 'E':
    case 'T':
    case 'P':
    case 'B':
    case 'C':
    case 'M':
    case 'O':
    case 'U':
    case 'N':
      return static_cast<CallOutcome>(byte);
    default:
      throw ProtocolError("call reply from node '" + std::string(node_id) + "': unknown outcome " +
                          quoted(std::string_view(&byte, 1)));
  }
}

EdgeRuntime::CallResult decode_ok(std::string_view body, std::string_view node_id) {
  const std::string what = "call reply from node '" + std::string(node_id) + "'";
  const std::size_t newline = body.find('\n');
  if (newline == std::string_view::npos || newline < 3 || (body[0] != '0' && body[0] != '1') ||
      body[1] != ' ') {
    throw ProtocolError(what + ": expected \"<cold 0|1> <duration_ns>\\n\" before the output");
  }
  EdgeRuntime::CallResult result;
  result.cold_start = body[0] == '1';
  const char* first = body.data() + 2;
  const char* last = body.data() + newline;
  const auto [end, error] = std::from_chars(first, last, result.duration_ns);
  if (error != std::errc() || end != last || result.duration_ns < 0) {
    throw ProtocolError(what + ": the duration is not a non-negative integer of nanoseconds");
  }
  result.output = std::string(body.substr(newline + 1));
  return result;
}

[[noreturn]] void throw_circuit_open(std::string_view body, const std::string& prefix,
                                     std::string_view node_id) {
  const std::size_t space = body.find(' ');
  double retry_after = 0;
  const char* last = body.data() + (space == std::string_view::npos ? body.size() : space);
  const auto [end, error] = std::from_chars(body.data(), last, retry_after);
  if (space == std::string_view::npos || error != std::errc() || end != last ||
      !std::isfinite(retry_after) || retry_after < 0) {
    throw ProtocolError("call reply from node '" + std::string(node_id) +
                        "': a circuit-open reply without \"<retry_after_seconds> \"");
  }
  throw CircuitOpenError(prefix + std::string(body.substr(space + 1)), retry_after);
}

std::optional<Placement> parse_placement(std::string_view text) noexcept {
  for (const Placement placement : {Placement::All, Placement::LeastLoaded, Placement::Pinned}) {
    if (text == to_string(placement)) return placement;
  }
  return std::nullopt;
}

std::optional<CopyState> parse_copy_state(std::string_view text) noexcept {
  for (const CopyState state : {CopyState::Ready, CopyState::Syncing, CopyState::Failed}) {
    if (text == to_string(state)) return state;
  }
  return std::nullopt;
}

void check_version(const JsonFields& fields, int version) {
  const json& value = fields.get("v");
  if (!value.is_number_integer() || value.get<std::int64_t>() != version) {
    throw ProtocolError(fields.message() + ": unknown version " + value.dump() +
                        " (this host speaks " + std::to_string(version) + ")");
  }
}

}  // namespace

// ---- Calls -----------------------------------------------------------------

std::string encode_call(std::string_view function_id, std::string_view input) {
  std::string payload;
  payload.reserve(function_id.size() + 1 + input.size());
  payload.append(function_id).append(1, '\n').append(input);
  return payload;
}

CallRequest decode_call(std::string_view payload) {
  const std::size_t newline = payload.find('\n');
  if (newline == std::string_view::npos) {
    throw ProtocolError("call: no '\\n' after the function id");
  }
  const std::string_view function_id = payload.substr(0, newline);
  if (!topology_internal::is_valid_id(function_id)) {
    throw ProtocolError("call: " + quoted(function_id) +
                        " is not a valid function id (1-128 of [A-Za-z0-9._-])");
  }
  return {function_id, payload.substr(newline + 1)};
}

std::string encode_call_result(const EdgeRuntime::CallResult& result) {
  std::string payload;
  const std::string duration = std::to_string(result.duration_ns);
  payload.reserve(4 + duration.size() + result.output.size());
  payload.append(1, static_cast<char>(CallOutcome::Ok))
      .append(1, result.cold_start ? '1' : '0')
      .append(1, ' ')
      .append(duration)
      .append(1, '\n')
      .append(result.output);
  return payload;
}

std::string encode_call_failure(CallOutcome outcome, std::string_view message) {
  std::string payload(1, static_cast<char>(outcome));
  payload.append(message);
  return payload;
}

std::string encode_call_exception(std::exception_ptr error) {
  if (!error) return encode_call_failure(CallOutcome::Error, "the call failed without an error");
  try {
    std::rethrow_exception(std::move(error));
  } catch (const CircuitOpenError& open) {
    return encode_call_failure(CallOutcome::Circuit,
                               format_seconds(open.retry_after_seconds()) + " " + open.what());
  } catch (const MemoryLimitError& memory) {
    return encode_call_failure(CallOutcome::Memory, memory.what());
  } catch (const WorkerCrashError& crash) {
    return encode_call_failure(CallOutcome::Crash, crash.what());
  } catch (const TimeoutError& timeout) {  // NodeUnavailableError too
    return encode_call_failure(CallOutcome::Timeout, timeout.what());
  } catch (const PluginError& plugin) {
    return encode_call_failure(CallOutcome::Plugin, plugin.what());
  } catch (const BusyError& busy) {
    return encode_call_failure(CallOutcome::Busy, busy.what());
  } catch (const EdgeExecutionError& execution) {
    return encode_call_failure(CallOutcome::Error, execution.what());
  } catch (const std::invalid_argument& unknown) {
    return encode_call_failure(CallOutcome::Unknown, unknown.what());
  } catch (const std::exception& other) {
    return encode_call_failure(CallOutcome::Error, other.what());
  } catch (...) {
    return encode_call_failure(CallOutcome::Error, "the call failed with an unknown exception");
  }
}

EdgeRuntime::CallResult decode_call_reply(std::string_view payload, std::string_view node_id) {
  if (payload.empty()) {
    throw ProtocolError("call reply from node '" + std::string(node_id) + "': empty");
  }
  const CallOutcome outcome = outcome_of(payload[0], node_id);
  const std::string_view body = payload.substr(1);
  const std::string prefix = "node '" + std::string(node_id) + "': ";
  // Messages that already name the node (the runtime's "... on node 'x'")
  // are not prefixed twice.
  const std::string message =
      body.find("node '" + std::string(node_id) + "'") != std::string_view::npos
          ? std::string(body)
          : prefix + std::string(body);
  switch (outcome) {
    case CallOutcome::Ok:
      return decode_ok(body, node_id);
    case CallOutcome::Timeout:
      throw TimeoutError(message);
    case CallOutcome::Plugin:
      throw PluginError(message);
    case CallOutcome::Busy:
      throw BusyError(message);
    case CallOutcome::Crash:
      throw WorkerCrashError(message);
    case CallOutcome::Memory:
      throw MemoryLimitError(message);
    case CallOutcome::Circuit:
      throw_circuit_open(body, prefix, node_id);
    case CallOutcome::Unknown:
      throw std::invalid_argument(message);
    case CallOutcome::Error:
    case CallOutcome::NotReady:
      break;
  }
  throw EdgeExecutionError(message);
}

// ---- Inventory -------------------------------------------------------------

std::string_view to_string(CopyState state) noexcept {
  switch (state) {
    case CopyState::Ready:
      return "ready";
    case CopyState::Syncing:
      return "syncing";
    case CopyState::Failed:
      return "failed";
  }
  return "failed";
}

std::string Inventory::digest() const {
  json entries = json::array();
  for (const InventoryEntry& entry : functions) {
    entries.push_back({entry.function_id, entry.sha256, to_string(entry.state), entry.error});
  }
  const json placement_view = {{"id", node.id},
                               {"name", node.name},
                               {"location", node.location},
                               {"status", to_string(node.status)},
                               {"capabilities", node.capabilities},
                               {"max_functions", node.max_functions},
                               {"functions", std::move(entries)}};
  Sha256 hash;
  hash.update(placement_view.dump());
  return hash.hex_digest();
}

std::string encode(const Inventory& inventory) {
  json functions = json::array();
  for (const InventoryEntry& entry : inventory.functions) {
    functions.push_back({{"id", entry.function_id},
                         {"sha256", entry.sha256},
                         {"state", to_string(entry.state)},
                         {"error", entry.error},
                         {"stats", entry.stats.to_json()}});
  }
  return json{{"v", Inventory::kVersion},
              {"node", inventory.node.to_json()},
              {"boot", inventory.boot_id},
              {"functions", std::move(functions)}}
      .dump();
}

Inventory decode_inventory(std::string_view payload) {
  const json object = parse_object(payload, "inventory");
  const JsonFields fields(object, "inventory");
  check_version(fields, Inventory::kVersion);
  Inventory inventory;
  inventory.node = node_from_json(fields.object("node"));
  inventory.boot_id = fields.text("boot");
  const json& functions = fields.get("functions");
  if (!functions.is_array()) fields.fail("functions", "must be an array");
  for (std::size_t index = 0; index < functions.size(); ++index) {
    const JsonFields item(functions[index], "inventory",
                          "functions[" + std::to_string(index) + "]");
    InventoryEntry entry;
    entry.function_id = item.text("id");
    if (!topology_internal::is_valid_id(entry.function_id)) {
      item.fail("id", "is not a valid function id (1-128 of [A-Za-z0-9._-])");
    }
    const std::optional<CopyState> state = parse_copy_state(item.text("state"));
    if (!state) item.fail("state", "must be ready, syncing or failed");
    entry.state = *state;
    entry.sha256 = item.text("sha256");
    const bool unreadable_copy = entry.state == CopyState::Failed && entry.sha256.empty();
    if (!unreadable_copy && !is_sha256_hex(entry.sha256)) {
      item.fail("sha256", "must be 64 lowercase hex digits");
    }
    entry.error = item.text("error");
    entry.stats = stats_from_json(item.object("stats"), entry.function_id);
    inventory.functions.push_back(std::move(entry));
  }
  std::sort(inventory.functions.begin(), inventory.functions.end(),
            [](const InventoryEntry& left, const InventoryEntry& right) {
              return left.function_id < right.function_id;
            });
  const auto duplicate =
      std::adjacent_find(inventory.functions.begin(), inventory.functions.end(),
                         [](const InventoryEntry& left, const InventoryEntry& right) {
                           return left.function_id == right.function_id;
                         });
  if (duplicate != inventory.functions.end()) {
    throw ProtocolError("inventory: function \"" + duplicate->function_id + "\" is listed twice");
  }
  return inventory;
}

// ---- Desired state ---------------------------------------------------------

std::string encode(const DesiredCopy& copy) {
  return json{{"v", DesiredCopy::kVersion},
              {"function", function_to_json(copy.function)},
              {"placement", to_string(copy.placement)},
              {"artifact",
               {{"sha256", copy.artifact.sha256},
                {"md5", copy.artifact.md5},
                {"size", copy.artifact.size},
                {"version", copy.artifact.version}}}}
      .dump();
}

DesiredCopy decode_desired(std::string_view payload) {
  const json object = parse_object(payload, "desired copy");
  const JsonFields fields(object, "desired copy");
  check_version(fields, DesiredCopy::kVersion);
  DesiredCopy copy;
  const JsonFields artifact = fields.object("artifact");
  copy.artifact.sha256 = artifact.text("sha256");
  if (!is_sha256_hex(copy.artifact.sha256)) {
    artifact.fail("sha256", "must be 64 lowercase hex digits");
  }
  copy.artifact.md5 = artifact.text("md5");
  if (!is_md5_hex(copy.artifact.md5)) artifact.fail("md5", "must be 32 lowercase hex digits");
  copy.artifact.size = artifact.count("size");
  copy.artifact.version = artifact.integer("version", std::numeric_limits<std::int64_t>::min(),
                                           std::numeric_limits<std::int64_t>::max());

  const JsonFields function = fields.object("function");
  copy.function = function_from_json(function);
  // The definition pins the content the artifact carries: a copy that names
  // another is contradictory, not a choice between two.
  if (copy.function.plugin_sha256.empty()) copy.function.plugin_sha256 = copy.artifact.sha256;
  if (copy.function.plugin_sha256 != copy.artifact.sha256) {
    function.fail("plugin_sha256", "differs from \"artifact.sha256\"");
  }
  const std::optional<Placement> placement = parse_placement(fields.text("placement"));
  if (!placement) fields.fail("placement", "must be all, least_loaded or pinned");
  copy.placement = *placement;
  return copy;
}

}  // namespace edge::fleet
