// What a node host publishes every heartbeat interval for each of its nodes
// (on edge.<cluster>.hb.<node>; see docs/design/cluster-over-nats.md), and
// how the controller reads it. JSON, so that an operator can watch the
// subject with any NATS client; small (~150 bytes), so that one controller
// can take tens of thousands a second.
//
// A heartbeat carries a digest of the node's inventory, not the inventory:
// the controller asks for the full one only when the digest changes.
#pragma once

#include <edge/errors.hpp>
#include <edge/models.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace edge::fleet {

// A message that does not say what the protocol says; names the field.
class ProtocolError : public Error {
 public:
  using Error::Error;
};

struct HeartbeatMessage {
  static constexpr int kVersion = 1;  // "v": a controller refuses what it does not know

  std::string node_id;
  // Random per start of the node's host: a restarted host is told apart
  // from a late heartbeat of its previous life.
  std::string boot_id;
  // 1, 2, ... within one boot: an older one arriving late is ignored.
  std::uint64_t sequence = 0;
  ResourceUsage usage;
  std::string inventory_digest;  // hex SHA-256 of the node's inventory
};

std::string encode(const HeartbeatMessage& message);
// Throws ProtocolError naming the field that is missing, of the wrong type or
// out of range (an invalid node id, NaN or negative resource figures, an
// unknown version), or saying that the payload is not a JSON object.
HeartbeatMessage decode_heartbeat(std::string_view payload);

}  // namespace edge::fleet
