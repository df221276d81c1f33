#include "fleet/json_fields.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "util/format_number.hpp"

namespace edge::fleet {
namespace {

using nlohmann::json;

bool is_lower_hex(std::string_view text, std::size_t length) noexcept {
  return text.size() == length && std::all_of(text.begin(), text.end(), [](char character) {
           return (character >= '0' && character <= '9') || (character >= 'a' && character <= 'f');
         });
}

}  // namespace

json parse_object(std::string_view payload, std::string_view message) {
  json object;
  try {
    object = json::parse(payload);
  } catch (const json::parse_error& error) {
    throw ProtocolError(std::string(message) + ": not JSON (at byte " + std::to_string(error.byte) +
                        ")");
  } catch (const json::out_of_range&) {
    throw ProtocolError(std::string(message) + ": a number beyond a double's range");
  }
  if (!object.is_object()) throw ProtocolError(std::string(message) + ": not a JSON object");
  return object;
}

bool is_sha256_hex(std::string_view text) noexcept { return is_lower_hex(text, 64); }
bool is_md5_hex(std::string_view text) noexcept { return is_lower_hex(text, 32); }

JsonFields::JsonFields(const json& object, std::string message, std::string path)
    : object_(&object), message_(std::move(message)), path_(std::move(path)) {
  if (!object.is_object()) {
    throw ProtocolError(message_ + ": \"" + path_ + "\" must be an object");
  }
}

std::string JsonFields::path_of(std::string_view name) const {
  return path_.empty() ? std::string(name) : path_ + "." + std::string(name);
}

void JsonFields::fail(std::string_view name, std::string_view problem) const {
  throw ProtocolError(message_ + ": \"" + path_of(name) + "\" " + std::string(problem));
}

const json& JsonFields::get(std::string_view name) const {
  const auto position = object_->find(name);
  if (position == object_->end()) {
    throw ProtocolError(message_ + ": missing \"" + path_of(name) + "\"");
  }
  return *position;
}

std::string JsonFields::text(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_string()) fail(name, "must be a string");
  return value.get<std::string>();
}

bool JsonFields::flag(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_boolean()) fail(name, "must be true or false");
  return value.get<bool>();
}

double JsonFields::number(std::string_view name, double min, double max) const {
  const json& value = get(name);
  if (!value.is_number()) fail(name, "must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number) || number < min || number > max) {
    const std::string upper = max == std::numeric_limits<double>::max()
                                  ? std::string()
                                  : " and at most " + format_number(max);
    fail(name, "must be a finite number of at least " + format_number(min) + upper);
  }
  return number;
}

double JsonFields::positive(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_number()) fail(name, "must be a number");
  const double number = value.get<double>();
  if (!std::isfinite(number) || number <= 0) fail(name, "must be a finite number above 0");
  return number;
}

std::int64_t JsonFields::integer(std::string_view name, std::int64_t min, std::int64_t max) const {
  const json& value = get(name);
  const std::string range =
      "must be an integer from " + std::to_string(min) + " to " + std::to_string(max);
  if (value.is_number_unsigned()) {
    const auto number = value.get<std::uint64_t>();
    if (number > static_cast<std::uint64_t>(max)) fail(name, range);
    const auto signed_number = static_cast<std::int64_t>(number);
    if (signed_number < min) fail(name, range);
    return signed_number;
  }
  if (!value.is_number_integer()) fail(name, range);
  const auto number = value.get<std::int64_t>();
  if (number < min || number > max) fail(name, range);
  return number;
}

std::uint64_t JsonFields::count(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_number_unsigned()) fail(name, "must be a non-negative integer");
  return value.get<std::uint64_t>();
}

std::vector<std::string> JsonFields::texts(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_array()) fail(name, "must be an array of strings");
  std::vector<std::string> result;
  result.reserve(value.size());
  for (const json& item : value) {
    if (!item.is_string()) fail(name, "must be an array of strings");
    result.push_back(item.get<std::string>());
  }
  return result;
}

std::map<std::string, std::string> JsonFields::text_map(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_object()) fail(name, "must be an object of strings");
  std::map<std::string, std::string> result;
  for (const auto& [key, item] : value.items()) {
    if (!item.is_string()) fail(name, "must be an object of strings");
    result.emplace(key, item.get<std::string>());
  }
  return result;
}

JsonFields JsonFields::object(std::string_view name) const {
  const json& value = get(name);
  if (!value.is_object()) fail(name, "must be an object");
  return JsonFields(value, message_, path_of(name));
}

}  // namespace edge::fleet
