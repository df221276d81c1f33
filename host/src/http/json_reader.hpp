// Strict reading of JSON request bodies: a malformed body, a field of the
// wrong type or out of range, or an unknown field is an ApiError 400 that
// names the field ("memory_mb: expected a positive number of megabytes,
// got the string \"12\"").
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge::http {

// Parses the body; 400 naming line and column when it is not JSON.
nlohmann::json parse_json_body(std::string_view body);

struct NumberRange {
  double min = 0;
  bool min_exclusive = false;
  double max = 0;
  std::string_view expected;  // "a positive number of megabytes"
};

// One JSON object of a request. Borrows the value: it must outlive the reader.
class JsonObject {
 public:
  // `path` names the object in messages: "" for the body, "resources" inside it.
  JsonObject(const nlohmann::json& value, std::string path);

  // 400 for any key not in `allowed`.
  void allow_only(std::initializer_list<std::string_view> allowed) const;
  bool has(std::string_view key) const;

  // Each returns nullopt when the key is absent; a present key of the wrong
  // type (null included) or out of range is a 400.
  std::optional<std::string> string(std::string_view key, bool allow_empty = false) const;
  std::optional<double> number(std::string_view key, const NumberRange& range) const;
  std::optional<long long> integer(std::string_view key, long long min, long long max) const;
  std::optional<bool> boolean(std::string_view key) const;
  // Non-empty strings without repeats; `item` names one in messages ("capability").
  std::optional<std::vector<std::string>> string_list(std::string_view key,
                                                      std::string_view item) const;
  std::optional<std::map<std::string, std::string>> string_map(std::string_view key) const;
  std::optional<JsonObject> object(std::string_view key) const;

  // "resources.cpu_percent", or "cpu_percent" at the top.
  std::string field_name(std::string_view key) const;

 private:
  const nlohmann::json* find(std::string_view key) const;
  [[noreturn]] void expected(std::string_view key, std::string_view what,
                             const nlohmann::json& got) const;

  const nlohmann::json* value_;
  std::string path_;
};

// How a JSON value reads in a message: `the string "12"`, `null`, `an array`.
std::string describe_json(const nlohmann::json& value);

}  // namespace edge::http
