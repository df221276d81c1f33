#include "fleet/subjects.hpp"

#include "topology/ids.hpp"

#include <algorithm>
#include <stdexcept>

namespace edge::fleet {

std::string id_token(std::string_view id) {
  std::string token(id);
  std::replace(token.begin(), token.end(), '.', '=');
  return token;
}

std::optional<std::string> id_of_token(std::string_view token) {
  // '.' separates tokens; id_token never leaves one in a token.
  if (token.find('.') != std::string_view::npos) return std::nullopt;
  std::string id(token);
  std::replace(id.begin(), id.end(), '=', '.');
  if (!topology_internal::is_valid_id(id)) return std::nullopt;
  return id;
}

Subjects::Subjects(std::string cluster) : cluster_(std::move(cluster)) {
  if (!topology_internal::is_valid_cluster_name(cluster_)) {
    throw std::invalid_argument("invalid cluster name \"" + cluster_ +
                                "\": expected 1-64 of [A-Za-z0-9_-]");
  }
  prefix_ = "edge." + cluster_ + ".";
}

std::string Subjects::heartbeat(std::string_view node_id) const {
  return prefix_ + "hb." + id_token(node_id);
}

std::string Subjects::every_heartbeat() const { return prefix_ + "hb.*"; }

std::optional<std::string> Subjects::node_of_heartbeat(std::string_view subject) const {
  const std::string start = prefix_ + "hb.";
  if (!subject.starts_with(start)) return std::nullopt;
  return id_of_token(subject.substr(start.size()));
}

std::string Subjects::invoke(std::string_view node_id) const {
  return prefix_ + "call." + id_token(node_id);
}

std::string Subjects::inventory(std::string_view node_id) const {
  return prefix_ + "inv." + id_token(node_id);
}

std::string Subjects::control(std::string_view node_id) const {
  return prefix_ + "ctl." + id_token(node_id);
}

std::string Subjects::artifact_chunks() const { return prefix_ + "blob.get"; }

std::string Subjects::artifact_chunks_of(std::string_view sha256) const {
  return prefix_ + "blob." + std::string(sha256);
}

std::string Subjects::desired_bucket() const { return "edge_" + cluster_ + "_desired"; }

std::string Subjects::desired_key(std::string_view node_id, std::string_view function_id) const {
  return id_token(node_id) + "." + id_token(function_id);
}

std::string Subjects::desired_keys_of(std::string_view node_id) const {
  return id_token(node_id) + ".*";
}

std::optional<std::pair<std::string, std::string>> Subjects::node_and_function_of(
    std::string_view key) const {
  const std::size_t dot = key.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  std::optional<std::string> node = id_of_token(key.substr(0, dot));
  std::optional<std::string> function = id_of_token(key.substr(dot + 1));
  if (!node || !function) return std::nullopt;
  return std::pair{std::move(*node), std::move(*function)};
}

}  // namespace edge::fleet
