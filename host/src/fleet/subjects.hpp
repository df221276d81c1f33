// Where each message of the cluster protocol goes (docs/design/
// cluster-over-nats.md): NATS subjects and key-value names built from the
// cluster's name and node and function ids.
//
// Ids may contain '.', which separates the tokens of a subject and of a key
// ("edge.factory.hb.gw.7" would be five tokens, and "hb.*" would not match
// it). In a token every '.' becomes '=': '=' is no id character, and it is
// allowed in both subjects and keys, so the mapping is reversible.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace edge::fleet {

// The token for an id, and the id of a token (nullopt for a token that no
// valid id maps to).
std::string id_token(std::string_view id);
std::optional<std::string> id_of_token(std::string_view token);

class Subjects {
 public:
  // Invalid name: std::invalid_argument saying what a name may hold.
  explicit Subjects(std::string cluster);

  const std::string& cluster() const noexcept { return cluster_; }

  // A node's heartbeats, published by its host.
  std::string heartbeat(std::string_view node_id) const;
  // Every node's heartbeats, for the controller.
  std::string every_heartbeat() const;
  // The node of a heartbeat subject; nullopt when the subject is not one.
  std::optional<std::string> node_of_heartbeat(std::string_view subject) const;
  // Requests a node's host answers: calls, its full inventory, control.
  std::string invoke(std::string_view node_id) const;
  std::string inventory(std::string_view node_id) const;
  std::string control(std::string_view node_id) const;

  // Chunk requests for plugin artifacts, answered by the hosts holding them.
  std::string artifact_chunks() const;
  // Chunk requests for one artifact, answered only by hosts that hold that
  // content (a queue group per artifact: a member never has to decline).
  std::string artifact_chunks_of(std::string_view sha256) const;

  // The key-value bucket of desired state, and its keys: one per function
  // placed on a node; a node watches its own.
  std::string desired_bucket() const;
  std::string desired_key(std::string_view node_id, std::string_view function_id) const;
  std::string desired_keys_of(std::string_view node_id) const;
  // The node and function ids of a desired-state key; nullopt when the key
  // is not one (not two tokens, or a token no valid id maps to).
  std::optional<std::pair<std::string, std::string>> node_and_function_of(
      std::string_view key) const;

 private:
  std::string cluster_;
  std::string prefix_;  // "edge.<cluster>."
};

}  // namespace edge::fleet
