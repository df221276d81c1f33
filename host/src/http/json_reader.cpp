#include "http/json_reader.hpp"

#include "http/api_error.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <set>

namespace edge::http {
namespace {

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string without_exception_prefix(const std::string& message) {
  const std::size_t end = message.find("] ");
  return message.starts_with("[json.exception.") && end != std::string::npos
             ? message.substr(end + 2)
             : message;
}

}  // namespace

nlohmann::json parse_json_body(std::string_view body) {
  try {
    return nlohmann::json::parse(body);
  } catch (const nlohmann::json::parse_error& error) {
    bad_request("malformed JSON in the request body: " + without_exception_prefix(error.what()));
  } catch (const nlohmann::json::out_of_range& error) {
    // A number too large for a double ("1e999"): nlohmann reports it as
    // out_of_range (406), not as a parse_error.
    bad_request("malformed JSON in the request body: " + without_exception_prefix(error.what()));
  }
}

std::string describe_json(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "the string " + in_quotes(value.get_ref<const std::string&>());
    case nlohmann::json::value_t::boolean:
      return value.get<bool>() ? "true" : "false";
    case nlohmann::json::value_t::binary:
    case nlohmann::json::value_t::discarded:
      return "an unsupported value";
    default:
      return value.dump();  // a number, as written
  }
}

JsonObject::JsonObject(const nlohmann::json& value, std::string path)
    : value_(&value), path_(std::move(path)) {
  if (!value.is_object()) {
    bad_request((path_.empty() ? std::string("the request body") : path_) +
                ": expected a JSON object, got " + describe_json(value));
  }
}

std::string JsonObject::field_name(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void JsonObject::allow_only(std::initializer_list<std::string_view> allowed) const {
  for (const auto& [key, value] : value_->items()) {
    bool known = false;
    for (const std::string_view name : allowed) known = known || key == name;
    if (known) continue;
    std::string list;
    for (const std::string_view name : allowed) {
      list += (list.empty() ? "" : ", ") + std::string(name);
    }
    bad_request("unknown field " + in_quotes(field_name(key)) + " (expected one of: " + list + ")");
  }
}

const nlohmann::json* JsonObject::find(std::string_view key) const {
  const auto found = value_->find(key);
  return found == value_->end() ? nullptr : &*found;
}

bool JsonObject::has(std::string_view key) const { return find(key) != nullptr; }

void JsonObject::expected(std::string_view key, std::string_view what,
                          const nlohmann::json& got) const {
  bad_request(field_name(key) + ": expected " + std::string(what) + ", got " + describe_json(got));
}

std::optional<std::string> JsonObject::string(std::string_view key, bool allow_empty) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  const std::string_view what = allow_empty ? "a string" : "a non-empty string";
  if (!value->is_string()) expected(key, what, *value);
  const auto& text = value->get_ref<const std::string&>();
  if (!allow_empty && text.empty()) expected(key, what, *value);
  if (text.find('\0') != std::string::npos) expected(key, "a string without NUL bytes", *value);
  return text;
}

std::optional<double> JsonObject::number(std::string_view key, const NumberRange& range) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_number()) expected(key, range.expected, *value);
  const double number = value->get<double>();
  const bool above_min = range.min_exclusive ? number > range.min : number >= range.min;
  if (!std::isfinite(number) || !above_min || number > range.max) {
    expected(key, range.expected, *value);
  }
  return number;
}

std::optional<long long> JsonObject::integer(std::string_view key, long long min,
                                             long long max) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  const std::string what =
      "a whole number from " + std::to_string(min) + " to " + std::to_string(max);
  if (value->is_number_unsigned()) {
    const auto number = value->get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(max) ||
        static_cast<long long>(number) < min) {  // JSON reads 0 and up as unsigned
      expected(key, what, *value);
    }
    return static_cast<long long>(number);
  }
  if (!value->is_number_integer()) expected(key, what, *value);
  const auto number = value->get<long long>();
  if (number < min || number > max) expected(key, what, *value);
  return number;
}

std::optional<bool> JsonObject::boolean(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_boolean()) expected(key, "true or false", *value);
  return value->get<bool>();
}

std::optional<std::vector<std::string>> JsonObject::string_list(std::string_view key,
                                                                std::string_view item) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  const std::string what = "an array of " + std::string(item) + " names (non-empty strings)";
  if (!value->is_array()) expected(key, what, *value);
  std::vector<std::string> items;
  std::set<std::string, std::less<>> seen;
  for (const nlohmann::json& element : *value) {
    if (!element.is_string() || element.get_ref<const std::string&>().empty()) {
      expected(key, what, element);
    }
    const auto& text = element.get_ref<const std::string&>();
    if (!seen.insert(text).second) {
      bad_request(field_name(key) + ": duplicate " + std::string(item) + " " + in_quotes(text));
    }
    items.push_back(text);
  }
  return items;
}

std::optional<std::map<std::string, std::string>> JsonObject::string_map(
    std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  if (!value->is_object()) expected(key, "an object of strings", *value);
  std::map<std::string, std::string> entries;
  for (const auto& [name, element] : value->items()) {
    if (!element.is_string()) {
      bad_request(field_name(key) + "." + name + ": expected a string, got " +
                  describe_json(element));
    }
    entries.emplace(name, element.get<std::string>());
  }
  return entries;
}

std::optional<JsonObject> JsonObject::object(std::string_view key) const {
  const nlohmann::json* value = find(key);
  if (value == nullptr) return std::nullopt;
  return JsonObject(*value, field_name(key));
}

}  // namespace edge::http
