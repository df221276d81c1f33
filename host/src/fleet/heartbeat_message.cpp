#include "fleet/heartbeat_message.hpp"

#include "topology/ids.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace edge::fleet {
namespace {

using nlohmann::json;

const json& field(const json& object, const char* name) {
  const auto position = object.find(name);
  if (position == object.end()) {
    throw ProtocolError(std::string("heartbeat: missing \"") + name + "\"");
  }
  return *position;
}

std::string text_field(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_string()) {
    throw ProtocolError(std::string("heartbeat: \"") + name + "\" must be a string");
  }
  return value.get<std::string>();
}

double number_field(const json& object, const char* name) {
  const json& value = field(object, name);
  if (!value.is_number()) {
    throw ProtocolError(std::string("heartbeat: \"") + name + "\" must be a number");
  }
  const double number = value.get<double>();
  if (!std::isfinite(number) || number < 0) {
    throw ProtocolError(std::string("heartbeat: \"") + name +
                        "\" must be a finite, non-negative number");
  }
  return number;
}

}  // namespace

std::string encode(const HeartbeatMessage& message) {
  return json{{"v", HeartbeatMessage::kVersion},
              {"node", message.node_id},
              {"boot", message.boot_id},
              {"seq", message.sequence},
              {"cpu", message.usage.cpu_percent},
              {"mem_mb", message.usage.memory_mb},
              {"mem_max_mb", message.usage.memory_max_mb},
              {"inv", message.inventory_digest}}
      .dump();
}

HeartbeatMessage decode_heartbeat(std::string_view payload) {
  json object;
  try {
    object = json::parse(payload);
  } catch (const json::parse_error& error) {
    throw ProtocolError("heartbeat: not JSON (at byte " + std::to_string(error.byte) + ")");
  } catch (const json::out_of_range&) {
    throw ProtocolError("heartbeat: a number beyond a double's range");
  }
  if (!object.is_object()) throw ProtocolError("heartbeat: not a JSON object");

  const json& version = field(object, "v");
  if (!version.is_number_integer() || version.get<std::int64_t>() != HeartbeatMessage::kVersion) {
    throw ProtocolError("heartbeat: unknown version " + version.dump() + " (this host speaks " +
                        std::to_string(HeartbeatMessage::kVersion) + ")");
  }
  HeartbeatMessage message;
  message.node_id = text_field(object, "node");
  if (!topology_internal::is_valid_id(message.node_id)) {
    throw ProtocolError("heartbeat: \"node\" is not a valid node id (1-128 of [A-Za-z0-9._-])");
  }
  message.boot_id = text_field(object, "boot");
  const json& sequence = field(object, "seq");
  if (!sequence.is_number_unsigned()) {
    throw ProtocolError("heartbeat: \"seq\" must be a non-negative integer");
  }
  message.sequence = sequence.get<std::uint64_t>();
  message.usage.cpu_percent = number_field(object, "cpu");
  message.usage.memory_mb = number_field(object, "mem_mb");
  message.usage.memory_max_mb = number_field(object, "mem_max_mb");
  if (!message.usage.is_valid()) {
    throw ProtocolError("heartbeat: \"cpu\" must be at most 100");
  }
  message.inventory_digest = text_field(object, "inv");
  return message;
}

}  // namespace edge::fleet
