// The heartbeat a node host publishes over NATS: what it encodes is what the
// controller decodes, and a message that breaks the protocol is refused with
// a ProtocolError naming the field (never a crash, never a skewed node).
#include "fleet/heartbeat_message.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>

using edge::fleet::decode_heartbeat;
using edge::fleet::HeartbeatMessage;
using edge::fleet::ProtocolError;

namespace {

HeartbeatMessage sample() {
  HeartbeatMessage message;
  message.node_id = "gateway-7.hall_2";
  message.boot_id = "3f2c9a";
  message.sequence = 42;
  message.usage.cpu_percent = 37.5;
  message.usage.memory_mb = 612.25;
  message.usage.memory_max_mb = 2048;
  message.inventory_digest = std::string(64, 'a');
  return message;
}

// The encoded sample with one field replaced (or removed: a null value).
std::string with(const char* name, const nlohmann::json& value) {
  nlohmann::json object = nlohmann::json::parse(edge::fleet::encode(sample()));
  if (value.is_null()) {
    object.erase(name);
  } else {
    object[name] = value;
  }
  return object.dump();
}

std::string refusal(const std::string& payload) {
  try {
    decode_heartbeat(payload);
  } catch (const ProtocolError& error) {
    return error.what();
  }
  FAIL("expected a ProtocolError for " << payload);
  return {};
}

}  // namespace

TEST_CASE("heartbeat: what is encoded is decoded, and it stays small") {
  const std::string payload = edge::fleet::encode(sample());
  CHECK(payload.size() < 220);
  const HeartbeatMessage decoded = decode_heartbeat(payload);
  CHECK(decoded.node_id == "gateway-7.hall_2");
  CHECK(decoded.boot_id == "3f2c9a");
  CHECK(decoded.sequence == 42);
  CHECK(decoded.usage.cpu_percent == 37.5);
  CHECK(decoded.usage.memory_mb == 612.25);
  CHECK(decoded.usage.memory_max_mb == 2048);
  CHECK(decoded.inventory_digest == std::string(64, 'a'));
}

TEST_CASE("heartbeat: a broken message is refused, naming the field") {
  CHECK(refusal("") == "heartbeat: not JSON (at byte 1)");
  CHECK(refusal("{\"v\":1,") == "heartbeat: not JSON (at byte 8)");
  CHECK(refusal("[1,2]") == "heartbeat: not a JSON object");
  CHECK(refusal(with("v", 2)) == "heartbeat: unknown version 2 (this host speaks 1)");
  CHECK(refusal(with("v", nullptr)) == "heartbeat: missing \"v\"");
  CHECK(refusal(with("node", nullptr)) == "heartbeat: missing \"node\"");
  CHECK(refusal(with("node", 7)) == "heartbeat: \"node\" must be a string");
  for (const char* bad_id : {"", "..", "a/b", "a b", "\x01"}) {
    CHECK(refusal(with("node", bad_id)) ==
          "heartbeat: \"node\" is not a valid node id (1-128 of [A-Za-z0-9._-])");
  }
  CHECK(refusal(with("seq", -1)) == "heartbeat: \"seq\" must be a non-negative integer");
  CHECK(refusal(with("seq", 1.5)) == "heartbeat: \"seq\" must be a non-negative integer");
  CHECK(refusal(with("cpu", "high")) == "heartbeat: \"cpu\" must be a number");
  CHECK(refusal(with("cpu", -3)) == "heartbeat: \"cpu\" must be a finite, non-negative number");
  CHECK(refusal(with("cpu", 100.5)) == "heartbeat: \"cpu\" must be at most 100");
  CHECK(refusal(with("mem_mb", -0.5)) ==
        "heartbeat: \"mem_mb\" must be a finite, non-negative number");
  CHECK(refusal(with("mem_max_mb", nullptr)) == "heartbeat: missing \"mem_max_mb\"");
  CHECK(refusal(with("inv", nullptr)) == "heartbeat: missing \"inv\"");
  // NaN is not JSON; a number beyond a double's range is refused too.
  const std::string payload = with("cpu", 1);
  const std::string::size_type cpu = payload.find("\"cpu\":1");
  REQUIRE(cpu != std::string::npos);
  std::string nan = payload;
  nan.replace(cpu, 7, "\"cpu\":NaN");
  CHECK(refusal(nan).starts_with("heartbeat: not JSON (at byte "));
  std::string huge = payload;
  huge.replace(cpu, 7, "\"cpu\":1e999");
  CHECK(refusal(huge) == "heartbeat: a number beyond a double's range");
}
