// Strict, position-aware reading of YAML values for the topology loader.
//
// yaml-cpp converts leniently (a quoted "12" reads as a number, a repeated map
// key is silently kept twice); these helpers refuse what the file format does
// not allow and raise a ConfigError "file:line:column: path: what was
// expected, got what". None of them recurses into the document, so a deeply
// nested or self-referencing (aliased) document cannot overflow the stack here.
#pragma once

#include <edge/errors.hpp>

#include "topology/ids.hpp"

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <filesystem>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace edge::topology_internal {

// A 1-based position in the file; 0:0 when unknown.
struct Position {
  std::size_t line = 0;
  std::size_t column = 0;
};
Position position_of(const YAML::Mark& mark) noexcept;
Position position_of(const YAML::Node& node);

// Raises the ConfigErrors of one file.
class ConfigContext {
 public:
  explicit ConfigContext(std::filesystem::path file) : file_(std::move(file)) {}
  [[noreturn]] void fail(Position where, const std::string& message) const;
  const std::filesystem::path& file() const noexcept { return file_; }

 private:
  std::filesystem::path file_;  // as the caller named it, for messages
};

// One value to read: the node, where to point at, and its path for messages
// ("functions[2].timeout_seconds").
struct Value {
  YAML::Node node;
  Position where;
  std::string path;
};

// One key of a map. A null value (`key:` with nothing after it) has no
// useful position of its own, so it points at its key.
struct Entry {
  std::string key;
  YAML::Node key_node;
  YAML::Node value_node;

  Value value(std::string path) const;
};

// The entries of one YAML map, in file order. The constructor requires the
// node to be a map whose keys are all plain strings.
class MapReader {
 public:
  // `map.path` is the map's own path ("nodes[1]"), empty for the top level.
  MapReader(const ConfigContext& context, const Value& map);

  // Rejects repeated keys and keys not in `allowed`; `label` names the map in
  // the message ("node 'gw-1'", "the top-level map").
  void check_keys(std::initializer_list<std::string_view> allowed, std::string_view label) const;
  // Rejects repeated keys only (for maps of free-form keys).
  void check_unique_keys(std::string_view label) const;
  // The first entry with this key, or nullptr.
  const Entry* find(std::string_view key) const;
  // "nodes[1].max_functions", or "plugin_dir" at the top level.
  std::string path_of(std::string_view key) const;
  Value value_of(const Entry& entry) const { return entry.value(path_of(entry.key)); }
  const std::vector<Entry>& entries() const noexcept { return entries_; }

 private:
  // Checks keys against `allowed` (every key allowed when null) and repeats.
  void check(const std::initializer_list<std::string_view>* allowed, std::string_view label) const;

  const ConfigContext* context_;
  std::vector<Entry> entries_;
  std::string path_;
};

// How a node reads in a message: `"abc"`, `a list`, `a map`, `nothing
// (null)`, `the boolean true`, `the quoted string "12"`.
std::string describe(const YAML::Node& node);

// Text for a message: between `mark`s, control bytes escaped, shortened.
// Names (keys, ids) are quoted with ', values a user wrote with ".
std::string quote(std::string_view text, char mark = '\'');

// A scalar taken as text (numbers and booleans as written). Rejects null,
// lists, maps, NUL bytes, and the empty string unless `allow_empty`.
std::string read_string(const ConfigContext& context, const Value& value, bool allow_empty);

// A plain (unquoted) YAML number within [min, max]; `min_exclusive` makes the
// lower bound strict. `expected` says it in words ("a positive number").
struct NumberRule {
  double min = 0;
  bool min_exclusive = false;
  double max = 0;
  std::string_view expected;
};
double read_number(const ConfigContext& context, const Value& value, const NumberRule& rule);

// A plain YAML integer (digits, optional sign) within [min, max].
long long read_integer(const ConfigContext& context, const Value& value, long long min,
                       long long max, std::string_view expected);

// A plain YAML boolean: true or false (yes/no/on/off are refused: they are
// too easy to write by accident).
bool read_boolean(const ConfigContext& context, const Value& value);

// A list of non-empty strings, without repeats (`what` names one item in
// the message: "capability").
std::vector<std::string> read_string_list(const ConfigContext& context, const Value& value,
                                          std::string_view what);

// A ConfigError "path: expected a list, got a map" unless the node is one.
void require_list(const ConfigContext& context, const Value& value);
void require_map(const ConfigContext& context, const Value& value);

// An id (see topology/ids.hpp: is_valid_id).
std::string read_id(const ConfigContext& context, const Value& value);

}  // namespace edge::topology_internal
