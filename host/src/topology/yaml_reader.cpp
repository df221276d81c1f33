#include "topology/yaml_reader.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_map>
#include <unordered_set>

namespace edge::topology_internal {
namespace {

// yaml-cpp tags a quoted scalar "!" and a plain one "?".
constexpr std::string_view kPlainTag = "?";
constexpr std::string_view kQuotedTag = "!";
constexpr std::string_view kIntTag = "tag:yaml.org,2002:int";
constexpr std::string_view kFloatTag = "tag:yaml.org,2002:float";

// The words yaml-cpp reads as booleans; named in messages so that
// "got the boolean yes" explains why `memory_mb: yes` is refused.
bool is_boolean_word(std::string_view text) noexcept {
  static constexpr std::array<std::string_view, 18> kWords = {
      "true", "True", "TRUE", "false", "False", "FALSE", "yes", "Yes", "YES",
      "no",   "No",   "NO",   "on",    "On",    "ON",    "off", "Off", "OFF"};
  for (std::string_view word : kWords) {
    if (word == text) return true;
  }
  return false;
}

// .inf, -.Inf, .NaN ...: YAML's spellings of the non-finite numbers.
bool is_non_finite_word(std::string_view text) noexcept {
  if (!text.empty() && (text.front() == '-' || text.front() == '+')) text.remove_prefix(1);
  static constexpr std::array<std::string_view, 6> kWords = {".inf", ".Inf", ".INF",
                                                             ".nan", ".NaN", ".NAN"};
  for (std::string_view word : kWords) {
    if (word == text) return true;
  }
  return false;
}

bool is_numeric_tag(std::string_view tag) noexcept {
  return tag == kPlainTag || tag == kIntTag || tag == kFloatTag;
}

[[noreturn]] void fail_expected(const ConfigContext& context, const Value& value,
                                std::string_view expected, std::string_view detail = {}) {
  std::string message =
      value.path + ": expected " + std::string(expected) + ", got " + describe(value.node);
  if (!detail.empty()) message += " (" + std::string(detail) + ")";
  context.fail(value.where, message);
}

std::string format_number(double number) {
  std::array<char, 64> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  return error == std::errc() ? std::string(buffer.data(), end) : std::string("?");
}

}  // namespace

Position position_of(const YAML::Mark& mark) noexcept {
  if (mark.line < 0 || mark.column < 0) return {};
  return {static_cast<std::size_t>(mark.line) + 1, static_cast<std::size_t>(mark.column) + 1};
}

Position position_of(const YAML::Node& node) { return position_of(node.Mark()); }

void ConfigContext::fail(Position where, const std::string& message) const {
  throw ConfigError(file_, where.line, where.column, message);
}

Value Entry::value(std::string path) const {
  const Position where = value_node.IsNull() ? position_of(key_node) : position_of(value_node);
  return {value_node, where, std::move(path)};
}

MapReader::MapReader(const ConfigContext& context, const Value& map)
    : context_(&context), path_(map.path) {
  require_map(context, map);
  for (auto it = map.node.begin(); it != map.node.end(); ++it) {
    const YAML::Node key = it->first;
    if (!key.IsScalar()) {
      context.fail(position_of(key), (path_.empty() ? std::string("top level") : path_) +
                                         ": expected a plain string as key, got " + describe(key));
    }
    entries_.push_back({key.Scalar(), key, it->second});
  }
}

void MapReader::check_keys(std::initializer_list<std::string_view> allowed,
                           std::string_view label) const {
  check(&allowed, label);
}

void MapReader::check_unique_keys(std::string_view label) const { check(nullptr, label); }

void MapReader::check(const std::initializer_list<std::string_view>* allowed,
                      std::string_view label) const {
  std::unordered_map<std::string_view, const Entry*> first_seen;
  for (const Entry& entry : entries_) {
    bool known = allowed == nullptr;
    if (allowed != nullptr) {
      for (std::string_view key : *allowed) known = known || key == entry.key;
    }
    if (!known) {
      std::string message =
          "unknown key " + quote(entry.key) + " in " + std::string(label) + " (expected one of:";
      const char* separator = " ";
      for (std::string_view key : *allowed) {
        message += separator;
        message += key;
        separator = ", ";
      }
      message += ")";
      if (entry.key == "<<") message += "; YAML merge keys (<<) are not supported";
      context_->fail(position_of(entry.key_node), message);
    }
    const auto [first, inserted] = first_seen.emplace(entry.key, &entry);
    if (!inserted) {
      context_->fail(position_of(entry.key_node),
                     "duplicate key " + quote(entry.key) + " in " + std::string(label) +
                         " (first at line " +
                         std::to_string(position_of(first->second->key_node).line) + ")");
    }
  }
}

const Entry* MapReader::find(std::string_view key) const {
  for (const Entry& entry : entries_) {
    if (entry.key == key) return &entry;
  }
  return nullptr;
}

std::string MapReader::path_of(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

std::string quote(std::string_view text, char mark) {
  constexpr std::size_t kMaxShown = 60;
  std::string quoted(1, mark);
  std::size_t shown = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    // Stop before a character, never inside a UTF-8 sequence.
    if (shown >= kMaxShown && (byte & 0xC0U) != 0x80U) {
      quoted += "...";
      break;
    }
    if (byte == static_cast<unsigned char>(mark) || byte == '\\') {
      quoted += '\\';
      quoted += static_cast<char>(byte);
    } else if (byte == '\n') {
      quoted += "\\n";
    } else if (byte < 0x20U || byte == 0x7FU) {
      std::array<char, 8> escaped{};
      std::snprintf(escaped.data(), escaped.size(), "\\x%02X", byte);
      quoted += escaped.data();
    } else {
      quoted += static_cast<char>(byte);
    }
    ++shown;
  }
  quoted += mark;
  return quoted;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Undefined:
      return "nothing";
    case YAML::NodeType::Null:
      return "nothing (null)";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      break;
  }
  const std::string& tag = node.Tag();
  const std::string& text = node.Scalar();
  if (tag == kQuotedTag) return "the quoted string " + quote(text, '"');
  if (tag != kPlainTag) return "a value tagged " + tag + " " + quote(text, '"');
  if (is_boolean_word(text)) return "the boolean " + text;
  return quote(text, '"');
}

std::string read_string(const ConfigContext& context, const Value& value, bool allow_empty) {
  const std::string_view expected = allow_empty ? "a string" : "a non-empty string";
  if (!value.node.IsScalar()) fail_expected(context, value, expected);
  const std::string& text = value.node.Scalar();
  if (text.empty() && !allow_empty) fail_expected(context, value, expected);
  if (text.find('\0') != std::string::npos)
    fail_expected(context, value, expected, "contains a NUL byte");
  return text;
}

double read_number(const ConfigContext& context, const Value& value, const NumberRule& rule) {
  if (!value.node.IsScalar() || !is_numeric_tag(value.node.Tag())) {
    fail_expected(context, value, rule.expected);
  }
  std::string_view text = value.node.Scalar();
  if (is_non_finite_word(text)) fail_expected(context, value, rule.expected, "not a finite number");
  // YAML 1.2 decimal forms only: from_chars alone would also take "inf" and
  // "nan", and it does not take a leading '+'.
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  const std::size_t first_digit = (!text.empty() && text.front() == '-') ? 1 : 0;
  if (text.size() <= first_digit ||
      !(std::isdigit(static_cast<unsigned char>(text[first_digit])) != 0 ||
        text[first_digit] == '.')) {
    fail_expected(context, value, rule.expected);
  }
  double number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error == std::errc::result_out_of_range) {
    fail_expected(context, value, rule.expected, "out of range");
  }
  if (error != std::errc() || end != text.data() + text.size()) {
    fail_expected(context, value, rule.expected);
  }
  if (!std::isfinite(number)) fail_expected(context, value, rule.expected, "not a finite number");
  const bool above_min = rule.min_exclusive ? number > rule.min : number >= rule.min;
  if (!above_min || number > rule.max) {
    fail_expected(context, value, rule.expected,
                  "allowed: " + std::string(rule.min_exclusive ? "> " : ">= ") +
                      format_number(rule.min) + " and <= " + format_number(rule.max));
  }
  return number;
}

long long read_integer(const ConfigContext& context, const Value& value, long long min,
                       long long max, std::string_view expected) {
  if (!value.node.IsScalar() || !is_numeric_tag(value.node.Tag())) {
    fail_expected(context, value, expected);
  }
  std::string_view text = value.node.Scalar();
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  long long number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error == std::errc::result_out_of_range)
    fail_expected(context, value, expected, "out of range");
  if (error != std::errc() || end != text.data() + text.size()) {
    fail_expected(context, value, expected);
  }
  if (number < min || number > max) fail_expected(context, value, expected);
  return number;
}

bool read_boolean(const ConfigContext& context, const Value& value) {
  if (value.node.IsScalar() && value.node.Tag() == kPlainTag) {
    if (value.node.Scalar() == "true") return true;
    if (value.node.Scalar() == "false") return false;
  }
  fail_expected(context, value, "true or false");
}

void require_list(const ConfigContext& context, const Value& value) {
  if (!value.node.IsSequence()) fail_expected(context, value, "a list");
}

void require_map(const ConfigContext& context, const Value& value) {
  if (!value.node.IsMap()) fail_expected(context, value, "a map");
}

std::vector<std::string> read_string_list(const ConfigContext& context, const Value& value,
                                          std::string_view what) {
  if (!value.node.IsSequence()) {
    fail_expected(context, value, "a list of " + std::string(what) + " names");
  }
  std::vector<std::string> items;
  std::unordered_set<std::string> seen;
  std::size_t index = 0;
  for (const YAML::Node& node : value.node) {
    const Value item{node, position_of(node), value.path + "[" + std::to_string(index++) + "]"};
    std::string text = read_string(context, item, false);
    if (!seen.insert(text).second) {
      context.fail(item.where, item.path + ": duplicate " + std::string(what) + " " + quote(text));
    }
    items.push_back(std::move(text));
  }
  return items;
}

std::string read_id(const ConfigContext& context, const Value& value) {
  constexpr std::string_view kExpected =
      "an id of 1-128 characters from A-Z a-z 0-9 . _ - (not '.' or '..')";
  if (!value.node.IsScalar()) fail_expected(context, value, kExpected);
  std::string id = value.node.Scalar();
  if (!is_valid_id(id)) fail_expected(context, value, kExpected);
  return id;
}

}  // namespace edge::topology_internal
