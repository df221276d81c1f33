// Reading the JSON of a protocol message field by field: every problem is a
// ProtocolError that names the message and the field's path
// ("desired copy: \"function.memory_mb\" must be a finite number > 0").
//
// A plain value over a borrowed json object: valid while that object lives.
#pragma once

#include "fleet/heartbeat_message.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace edge::fleet {

// Parses `payload`; ProtocolError "<message>: not JSON (at byte N)" or "not
// a JSON object" otherwise.
nlohmann::json parse_object(std::string_view payload, std::string_view message);

// 64 lowercase hex digits.
bool is_sha256_hex(std::string_view text) noexcept;
// 32 lowercase hex digits.
bool is_md5_hex(std::string_view text) noexcept;

class JsonFields {
 public:
  // `object` must be a JSON object (ProtocolError naming `path` otherwise).
  // `message` names the message ("inventory"); `path` the object's place in
  // it ("node.resources"), empty for the top level.
  JsonFields(const nlohmann::json& object, std::string message, std::string path = {});

  // The fields below throw when the field is missing or has another type.
  const nlohmann::json& get(std::string_view name) const;
  std::string text(std::string_view name) const;
  bool flag(std::string_view name) const;
  // Finite and within [min, max].
  double number(std::string_view name, double min, double max) const;
  // Finite and above 0.
  double positive(std::string_view name) const;
  // An integer within [min, max].
  std::int64_t integer(std::string_view name, std::int64_t min, std::int64_t max) const;
  // A non-negative integer.
  std::uint64_t count(std::string_view name) const;
  std::vector<std::string> texts(std::string_view name) const;
  std::map<std::string, std::string> text_map(std::string_view name) const;
  // A nested object.
  JsonFields object(std::string_view name) const;

  // "<message>: \"<path.name>\" <problem>", to throw from callers' own checks.
  [[noreturn]] void fail(std::string_view name, std::string_view problem) const;
  const std::string& message() const noexcept { return message_; }
  std::string path_of(std::string_view name) const;

 private:
  const nlohmann::json* object_;  // OWNERSHIP: borrowed
  std::string message_;
  std::string path_;
};

}  // namespace edge::fleet
