// load_topology: the YAML topology file to a validated Topology. The format
// is documented key by key in config/README.md; keep the two in step.
#include <edge/errors.hpp>
#include <edge/plugin.hpp>
#include <edge/topology.hpp>

#include "plugin/security_check.hpp"
#include "plugin/sha256.hpp"
#include "runtime/function_validation.hpp"
#include "topology/function_rules.hpp"
#include "topology/ids.hpp"
#include "topology/sandbox_section.hpp"
#include "topology/security_section.hpp"
#include "topology/yaml_reader.hpp"

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <map>
#include <set>
#include <sstream>
#include <system_error>
#include <utility>

namespace edge {
namespace {

using topology_internal::ConfigContext;
using topology_internal::Entry;
using topology_internal::kMaxFunctionMemoryMb;
using topology_internal::kMaxSeconds;
using topology_internal::MapReader;
using topology_internal::NumberRule;
using topology_internal::Position;
using topology_internal::position_of;
using topology_internal::quote;
using topology_internal::Value;

// A topology file is a few kilobytes. yaml-cpp 0.7 needs about 500 bytes per
// node of the document (a 1 MiB list of one-letter items peaks at 250 MB), so
// a wrong path (a disk image, /dev/zero) must not reach it.
constexpr std::size_t kMaxFileBytes = std::size_t{1024} * 1024;

constexpr long long kMaxFunctionsPerNode = 100'000;
constexpr long long kMaxBodyLimitBytes = 1LL << 30;
constexpr long long kMaxConnections = 1'000'000;
constexpr long long kMaxServerThreads = 1024;
constexpr std::size_t kMaxTokenLength = 4096;

constexpr NumberRule kHeartbeatTimeoutRule{0, true, kMaxSeconds, "a positive number of seconds"};
constexpr NumberRule kTimeoutRule{0, true, kMaxSeconds, "a positive number of seconds"};
constexpr NumberRule kMemoryRule{0, true, kMaxFunctionMemoryMb, "a positive number of megabytes"};
constexpr NumberRule kCpuRule{0, false, 100, "a number from 0 to 100"};
constexpr NumberRule kNodeMemoryRule{0, false, 1e15, "a number of megabytes >= 0"};
constexpr NumberRule kDrainTimeoutRule{0, false, kMaxSeconds,
                                       "a number of seconds from 0 to 86400"};

class FileDescriptor {
 public:
  explicit FileDescriptor(int descriptor) noexcept : descriptor_(descriptor) {}
  ~FileDescriptor() {
    if (descriptor_ >= 0) ::close(descriptor_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const noexcept { return descriptor_; }

 private:
  int descriptor_;
};

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string read_whole_file(const ConfigContext& context) {
  const FileDescriptor file(::open(context.file().c_str(), O_RDONLY | O_CLOEXEC));
  if (file.get() < 0) context.fail({}, "cannot open: " + errno_text(errno));
  struct stat status {};
  if (::fstat(file.get(), &status) != 0) context.fail({}, "cannot read: " + errno_text(errno));
  if (S_ISDIR(status.st_mode)) context.fail({}, "cannot open: " + errno_text(EISDIR));

  std::string text;
  std::array<char, std::size_t{64} * 1024> buffer{};
  for (;;) {
    const ssize_t count = ::read(file.get(), buffer.data(), buffer.size());
    if (count < 0 && errno == EINTR) continue;
    if (count < 0) context.fail({}, "cannot read: " + errno_text(errno));
    if (count == 0) break;
    if (text.size() + static_cast<std::size_t>(count) > kMaxFileBytes) {
      context.fail({}, "cannot read: larger than 1 MiB; a topology file is small");
    }
    text.append(buffer.data(), static_cast<std::size_t>(count));
  }
  return text;
}

// Records where each document starts, nothing else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> marks;

  void OnDocumentStart(const YAML::Mark& mark) override { marks.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

// The file's one document; null when the file has none.
//
// Not YAML::LoadAll: in yaml-cpp 0.7 a token that cannot start a node (a
// ',' at the top level, for one) is never consumed, and LoadAll then adds
// empty documents until memory runs out (yaml-cpp issue #1040, fixed after
// 0.8.0). So the documents are first counted with a bounded loop, and a
// document starting where the previous one started is that stuck token.
YAML::Node parse_document(const ConfigContext& context, const std::string& text) {
  try {
    std::istringstream stream(text);
    YAML::Parser parser(stream);
    DocumentStarts starts;
    while (starts.marks.size() < 3 && parser.HandleNextDocument(starts)) {
      const std::size_t count = starts.marks.size();
      if (count >= 2 && starts.marks[count - 1].pos == starts.marks[count - 2].pos) {
        const YAML::Mark& stuck = starts.marks.back();
        const auto offset = static_cast<std::size_t>(stuck.pos);
        const bool ascii = offset < text.size() && static_cast<unsigned char>(text[offset]) < 0x80U;
        context.fail(
            position_of(stuck),
            "invalid YAML: unexpected " + (ascii ? quote(std::string_view(text).substr(offset, 1))
                                                 : std::string("character")));
      }
    }
    if (starts.marks.size() > 1) {
      context.fail(position_of(starts.marks[1]),
                   "expected one YAML document, found a second one (after '---')");
    }
    return starts.marks.empty() ? YAML::Node() : YAML::Load(text);
  } catch (const YAML::DeepRecursion& error) {
    // yaml-cpp's own message here is just "bad file".
    context.fail(position_of(error.mark),
                 "invalid YAML: nested too deeply (yaml-cpp's parser stops at depth " +
                     std::to_string(error.depth()) + ")");
  } catch (const YAML::Exception& error) {
    context.fail(position_of(error.mark), "invalid YAML: " + error.msg);
  }
}

// Everything one load needs besides the document.
struct Loader {
  const ConfigContext& context;
  std::filesystem::path plugin_dir;
  PluginSecurityCheck security;
  // Each plugin file is checked, hashed and inspected (loaded and unloaded)
  // once per load.
  std::map<std::filesystem::path, PluginInfo> inspected;
  std::map<std::filesystem::path, std::string> hashes;
  std::set<std::filesystem::path> trusted;  // passed the security checks
};

// The label of a list item in key errors: "node 'gw-1'" once its id reads
// well, else its path "nodes[3]".
std::string item_label(const MapReader& fields, std::string_view kind, const std::string& path) {
  const Entry* id = fields.find("id");
  if (id != nullptr && id->value_node.IsScalar() &&
      topology_internal::is_valid_id(id->value_node.Scalar())) {
    return std::string(kind) + " " + quote(id->value_node.Scalar());
  }
  return path;
}

// Reads the required `id` and rejects one seen before in the same list.
std::string read_unique_id(const Loader& loader, const MapReader& fields, const Value& item,
                           std::string_view kind, std::map<std::string, Position>& seen) {
  const Entry* entry = fields.find("id");
  if (entry == nullptr) loader.context.fail(item.where, item.path + ": missing required key 'id'");
  const Value value = fields.value_of(*entry);
  std::string id = topology_internal::read_id(loader.context, value);
  const auto [first, inserted] = seen.emplace(id, value.where);
  if (!inserted) {
    loader.context.fail(value.where, "duplicate " + std::string(kind) + " id " + quote(id) +
                                         " (first defined at line " +
                                         std::to_string(first->second.line) + ")");
  }
  return id;
}

ResourceUsage read_resources(const Loader& loader, const Value& value, std::string_view label) {
  const MapReader fields(loader.context, value);
  fields.check_keys({"cpu_percent", "memory_mb", "memory_max_mb"},
                    "resources of " + std::string(label));
  ResourceUsage resources;
  for (const Entry& entry : fields.entries()) {
    const Value field = fields.value_of(entry);
    if (entry.key == "cpu_percent") {
      resources.cpu_percent = topology_internal::read_number(loader.context, field, kCpuRule);
    } else if (entry.key == "memory_mb") {
      resources.memory_mb = topology_internal::read_number(loader.context, field, kNodeMemoryRule);
    } else {
      resources.memory_max_mb =
          topology_internal::read_number(loader.context, field, kNodeMemoryRule);
    }
  }
  return resources;
}

EdgeNode read_node(const Loader& loader, const Value& item, std::map<std::string, Position>& ids) {
  const MapReader fields(loader.context, item);
  const std::string label = item_label(fields, "node", item.path);
  fields.check_keys({"id", "name", "location", "capabilities", "max_functions", "resources"},
                    label);

  EdgeNode node;
  node.id = read_unique_id(loader, fields, item, "node", ids);
  node.name = node.id;
  for (const Entry& entry : fields.entries()) {
    const Value field = fields.value_of(entry);
    if (entry.key == "name") {
      node.name = topology_internal::read_string(loader.context, field, false);
    } else if (entry.key == "location") {
      node.location = topology_internal::read_string(loader.context, field, true);
    } else if (entry.key == "capabilities") {
      node.capabilities = topology_internal::read_string_list(loader.context, field, "capability");
    } else if (entry.key == "max_functions") {
      node.max_functions = static_cast<int>(topology_internal::read_integer(
          loader.context, field, 1, kMaxFunctionsPerNode, "a whole number from 1 to 100000"));
    } else if (entry.key == "resources") {
      node.resources = read_resources(loader, field, label);
    }
  }
  return node;
}

std::map<std::string, std::string> read_environment(const Loader& loader, const Value& value,
                                                    std::string_view label) {
  const MapReader fields(loader.context, value);
  fields.check_unique_keys("environment of " + std::string(label));
  std::map<std::string, std::string> environment;
  for (const Entry& entry : fields.entries()) {
    const std::string& name = entry.key;
    if (!topology_internal::is_valid_environment_name(name)) {
      loader.context.fail(position_of(entry.key_node),
                          value.path + ": " + quote(name) +
                              " is not a valid variable name (expected letters, digits and _, "
                              "not starting with a digit)");
    }
    environment.emplace(name, topology_internal::read_string(
                                  loader.context, entry.value(value.path + "." + name), true));
  }
  return environment;
}

Placement read_placement(const Loader& loader, const Value& value) {
  const std::string text = topology_internal::read_string(loader.context, value, true);
  if (text == "all") return Placement::All;
  if (text == "least_loaded") return Placement::LeastLoaded;
  loader.context.fail(value.where, value.path + ": unknown placement " + quote(text) +
                                       " (expected all or least_loaded)");
}

// A value with '/' or ending in ".so" is a path (relative: against
// plugin_dir); anything else names <plugin_dir>/<name>.so.
std::filesystem::path resolve_plugin(const Loader& loader, const Value& value,
                                     const std::string& text) {
  const bool is_path = text.find('/') != std::string::npos || text.ends_with(".so");
  if (!is_path && !topology_internal::is_valid_id(text)) {
    loader.context.fail(value.where, value.path +
                                         ": expected a plugin name (A-Z a-z 0-9 . _ -) or a path "
                                         "to a .so file, got " +
                                         topology_internal::describe(value.node));
  }
  std::filesystem::path path =
      is_path ? std::filesystem::path(text) : loader.plugin_dir / (text + ".so");
  if (path.is_relative()) path = loader.plugin_dir / path;
  path = path.lexically_normal();
  if (const auto problem = topology_internal::plugin_file_problem(path)) {
    loader.context.fail(value.where, value.path + ": plugin " + quote(text) + " " + *problem);
  }
  return path;
}

// The security section's checks (file modes, signature), before anything
// else reads the plugin: opening a library runs its constructors.
void check_security(Loader& loader, const Value& value, const std::string& text,
                    const std::filesystem::path& path) {
  if (loader.trusted.count(path) != 0) return;
  try {
    loader.security.check(path, path, "plugin " + path.string());
  } catch (const PluginError& error) {
    loader.context.fail(
        value.where, value.path + ": plugin " + quote(text) + " cannot be used: " + error.what());
  }
  loader.trusted.insert(path);
}

const PluginInfo& inspect(Loader& loader, const Value& value, const std::string& text,
                          const std::filesystem::path& path) {
  if (const auto found = loader.inspected.find(path); found != loader.inspected.end()) {
    return found->second;
  }
  try {
    return loader.inspected.emplace(path, inspect_plugin(path)).first->second;
  } catch (const std::bad_alloc&) {
    throw;
  } catch (const std::exception& error) {
    loader.context.fail(
        value.where, value.path + ": plugin " + quote(text) + " cannot be used: " + error.what());
  }
}

Isolation read_isolation(const Loader& loader, const Value& value) {
  const std::string text = topology_internal::read_string(loader.context, value, false);
  if (const std::optional<Isolation> isolation = parse_isolation(text)) return *isolation;
  loader.context.fail(value.where, value.path + ": expected none or process, got " +
                                       topology_internal::describe(value.node));
}

std::string read_sha256(const Loader& loader, const Value& value) {
  const std::string text = topology_internal::read_string(loader.context, value, false);
  std::optional<std::string> normalized = topology_internal::normalize_sha256(text);
  if (!normalized) {
    loader.context.fail(value.where, value.path +
                                         ": expected a SHA-256 of 64 hex digits (the plugin "
                                         "content's pin, as sha256sum prints it), got " +
                                         topology_internal::describe(value.node));
  }
  return std::move(*normalized);
}

// The pin against the file's content now (after the security checks, before
// the plugin is opened).
void check_pin(Loader& loader, const Value& value, const EdgeFunction& function) {
  auto hash = loader.hashes.find(function.plugin);
  if (hash == loader.hashes.end()) {
    try {
      hash = loader.hashes.emplace(function.plugin, sha256_of_file(function.plugin)).first;
    } catch (const std::system_error& error) {
      loader.context.fail(value.where, value.path + ": cannot hash the plugin: " + error.what());
    }
  }
  // fail() does not return, so `hash` is valid here.
  // cppcheck-suppress derefInvalidIteratorRedundantCheck
  if (hash->second != function.plugin_sha256) {
    loader.context.fail(value.where, value.path + ": " +
                                         pin_mismatch_message(function.plugin, hash->second,
                                                              function.id, function.plugin_sha256));
  }
}

FunctionSpec read_function(Loader& loader, const Value& item,
                           std::map<std::string, Position>& ids) {
  const MapReader fields(loader.context, item);
  const std::string label = item_label(fields, "function", item.path);
  fields.check_keys(
      {"id", "plugin", "name", "memory_mb", "timeout_seconds", "environment",
       "required_capabilities", "placement", "sha256", "isolation", "max_workers", "idempotent"},
      label);

  FunctionSpec spec;
  EdgeFunction& function = spec.function;
  function.id = read_unique_id(loader, fields, item, "function", ids);
  function.name = function.id;
  const Entry* plugin_entry = fields.find("plugin");
  if (plugin_entry == nullptr) {
    loader.context.fail(item.where, item.path + ": missing required key 'plugin'");
  }
  const Value plugin_value = fields.value_of(*plugin_entry);
  const std::string plugin_text =
      topology_internal::read_string(loader.context, plugin_value, false);

  topology_internal::GivenFields given;
  std::optional<Value> sha256_value;
  for (const Entry& entry : fields.entries()) {
    const Value field = fields.value_of(entry);
    if (entry.key == "name") {
      function.name = topology_internal::read_string(loader.context, field, false);
    } else if (entry.key == "memory_mb") {
      function.memory_mb = topology_internal::read_number(loader.context, field, kMemoryRule);
      given.memory_mb = true;
    } else if (entry.key == "timeout_seconds") {
      function.timeout_seconds =
          topology_internal::read_number(loader.context, field, kTimeoutRule);
      given.timeout_seconds = true;
    } else if (entry.key == "environment") {
      function.environment = read_environment(loader, field, label);
    } else if (entry.key == "required_capabilities") {
      function.required_capabilities =
          topology_internal::read_string_list(loader.context, field, "capability");
      given.required_capabilities = true;
    } else if (entry.key == "placement") {
      spec.placement = read_placement(loader, field);
    } else if (entry.key == "sha256") {
      function.plugin_sha256 = read_sha256(loader, field);
      sha256_value = field;
    } else if (entry.key == "isolation") {
      function.isolation = read_isolation(loader, field);
    } else if (entry.key == "max_workers") {
      function.max_workers = static_cast<int>(topology_internal::read_integer(
          loader.context, field, 1, kMaxWorkersLimit,
          "a whole number of worker processes from 1 to " + std::to_string(kMaxWorkersLimit)));
    } else if (entry.key == "idempotent") {
      function.idempotent = topology_internal::read_boolean(loader.context, field);
    }
  }
  if (function.isolation != Isolation::Process && fields.find("max_workers") != nullptr) {
    const Value field = fields.value_of(*fields.find("max_workers"));
    loader.context.fail(field.where,
                        field.path + ": max_workers applies to isolation: process only");
  }

  function.plugin = resolve_plugin(loader, plugin_value, plugin_text);
  check_security(loader, plugin_value, plugin_text, function.plugin);
  if (sha256_value) check_pin(loader, *sha256_value, function);
  const PluginInfo& info = inspect(loader, plugin_value, plugin_text, function.plugin);
  if (const auto problem = topology_internal::apply_plugin_defaults(function, info, given)) {
    loader.context.fail(plugin_value.where,
                        plugin_value.path + ": plugin " + quote(plugin_text) + " " + *problem);
  }
  return spec;
}

// `nodes:` or `functions:` with nothing under it (everything commented out)
// reads as an empty list.
template <typename Read>
void for_each_item(const Loader& loader, const MapReader& top, std::string_view key, Read read) {
  const Entry* entry = top.find(key);
  if (entry == nullptr || entry->value_node.IsNull()) return;
  const Value list = top.value_of(*entry);
  topology_internal::require_list(loader.context, list);
  std::size_t index = 0;
  for (const YAML::Node& node : list.node) {
    const Value item{node, position_of(node), list.path + "[" + std::to_string(index++) + "]"};
    topology_internal::require_map(loader.context, item);
    read(item);
  }
}

// A NATS URL list: "nats://host:port", comma-separated.
bool is_nats_url_list(std::string_view text) {
  while (true) {
    const std::size_t comma = text.find(',');
    const std::string_view url = text.substr(0, comma);
    if (url.rfind("nats://", 0) != 0 || url.size() == 7) return false;
    if (comma == std::string_view::npos) return true;
    text.remove_prefix(comma + 1);
  }
}

void read_cluster(const Loader& loader, const MapReader& top, Topology& topology) {
  const Entry* entry = top.find("cluster");
  if (entry == nullptr || entry->value_node.IsNull()) return;
  const MapReader fields(loader.context, top.value_of(*entry));
  fields.check_keys(
      {"name", "heartbeat_timeout_seconds", "heartbeat_interval_seconds", "nats", "controller"},
      "cluster");
  for (const Entry& field : fields.entries()) {
    const Value value = fields.value_of(field);
    if (field.key == "name") {
      topology.cluster_name = topology_internal::read_string(loader.context, value, false);
      // The name is part of NATS subjects and of a JetStream bucket's name.
      if (!topology_internal::is_valid_cluster_name(topology.cluster_name)) {
        loader.context.fail(value.where, value.path +
                                             ": expected 1 to 64 of A-Z a-z 0-9 _ - (the name is "
                                             "part of NATS subjects), got \"" +
                                             topology.cluster_name + "\"");
      }
    } else if (field.key == "nats") {
      topology.nats_url = topology_internal::read_string(loader.context, value, false);
      if (!is_nats_url_list(topology.nats_url)) {
        loader.context.fail(value.where, value.path +
                                             ": expected nats://HOST:PORT (or several, "
                                             "comma-separated), got \"" +
                                             topology.nats_url + "\"");
      }
    } else if (field.key == "controller") {
      topology.controller = topology_internal::read_boolean(loader.context, value);
    } else if (field.key == "heartbeat_interval_seconds") {
      topology.heartbeat_interval_seconds =
          topology_internal::read_number(loader.context, value, kHeartbeatTimeoutRule);
    } else {
      topology.heartbeat_timeout_seconds =
          topology_internal::read_number(loader.context, value, kHeartbeatTimeoutRule);
    }
  }
  if (topology.heartbeat_interval_seconds >= topology.heartbeat_timeout_seconds) {
    loader.context.fail(top.value_of(*entry).where,
                        "cluster: heartbeat_interval_seconds must be below "
                        "heartbeat_timeout_seconds, or every node would look stale");
  }
}

ListenAddress read_listen(const Loader& loader, const Value& value) {
  const std::string text = topology_internal::read_string(loader.context, value, false);
  const std::optional<ListenAddress> address = parse_listen_address(text);
  if (!address) {
    loader.context.fail(value.where,
                        value.path +
                            ": expected HOST:PORT (such as 127.0.0.1:8080 or [::1]:8080, port 0 "
                            "to 65535), got " +
                            topology_internal::describe(value.node));
  }
  return *address;
}

// The token goes into an "Authorization: Bearer" header: visible ASCII only.
std::string read_token(const Loader& loader, const Value& value) {
  std::string token = topology_internal::read_string(loader.context, value, false);
  bool valid = token.size() <= kMaxTokenLength;
  for (const char character : token) {
    const auto byte = static_cast<unsigned char>(character);
    valid = valid && byte > 0x20 && byte < 0x7F;
  }
  if (!valid) {
    // Never quote the token itself: it is a secret.
    loader.context.fail(value.where, value.path +
                                         ": expected 1 to 4096 visible ASCII characters (no "
                                         "spaces) for the token");
  }
  return token;
}

void read_server(const Loader& loader, const MapReader& top, ServerSettings& server) {
  const Entry* entry = top.find("server");
  if (entry == nullptr || entry->value_node.IsNull()) return;
  const MapReader fields(loader.context, top.value_of(*entry));
  fields.check_keys({"listen", "token", "body_limit_bytes", "read_timeout_seconds",
                     "idle_timeout_seconds", "drain_timeout_seconds", "max_connections", "threads"},
                    "server");
  for (const Entry& field : fields.entries()) {
    const Value value = fields.value_of(field);
    if (field.key == "listen") {
      server.listen = read_listen(loader, value);
    } else if (field.key == "token") {
      server.token = read_token(loader, value);
    } else if (field.key == "body_limit_bytes") {
      server.body_limit_bytes = static_cast<std::size_t>(
          topology_internal::read_integer(loader.context, value, 1, kMaxBodyLimitBytes,
                                          "a whole number of bytes from 1 to 1073741824"));
    } else if (field.key == "read_timeout_seconds") {
      server.read_timeout_seconds =
          topology_internal::read_number(loader.context, value, kTimeoutRule);
    } else if (field.key == "idle_timeout_seconds") {
      server.idle_timeout_seconds =
          topology_internal::read_number(loader.context, value, kTimeoutRule);
    } else if (field.key == "drain_timeout_seconds") {
      server.drain_timeout_seconds =
          topology_internal::read_number(loader.context, value, kDrainTimeoutRule);
    } else if (field.key == "max_connections") {
      server.max_connections = static_cast<std::size_t>(topology_internal::read_integer(
          loader.context, value, 1, kMaxConnections, "a whole number from 1 to 1000000"));
    } else {
      server.threads = static_cast<unsigned>(topology_internal::read_integer(
          loader.context, value, 1, kMaxServerThreads, "a whole number from 1 to 1024"));
    }
  }
}

// plugin_dir from the file (relative: against the file's folder), checked to
// be a directory unless the caller overrides it.
std::filesystem::path read_plugin_dir(const ConfigContext& context, const MapReader& top,
                                      const std::filesystem::path& folder, bool overridden) {
  const Entry* entry = top.find("plugin_dir");
  if (entry == nullptr) return folder;
  const Value value = top.value_of(*entry);
  const std::filesystem::path written = topology_internal::read_string(context, value, false);
  std::filesystem::path directory = (folder / written).lexically_normal();
  if (!overridden) {
    std::error_code error;
    const std::filesystem::file_status status = std::filesystem::status(directory, error);
    if (!std::filesystem::exists(status)) {
      context.fail(value.where, value.path + ": " + directory.string() + " does not exist");
    }
    if (!std::filesystem::is_directory(status)) {
      context.fail(value.where, value.path + ": " + directory.string() + " is not a directory");
    }
  }
  return directory;
}

// Absolute and lexically normal; the working directory may be gone.
std::filesystem::path absolute_path(const ConfigContext& context, const std::filesystem::path& path,
                                    std::string_view what) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  if (error) {
    context.fail({}, std::string(what) + " " + quote(path.string()) +
                         " has no absolute path: " + error.message());
  }
  return absolute.lexically_normal();
}

}  // namespace

Topology load_topology(const std::filesystem::path& file) { return load_topology(file, {}); }

Topology load_topology(const std::filesystem::path& file, const TopologyOptions& options) {
  const ConfigContext context(file);
  const std::string text = read_whole_file(context);
  Topology topology;
  topology.source = absolute_path(context, file, "the topology file");
  const std::filesystem::path folder = topology.source.parent_path();

  const YAML::Node root = parse_document(context, text);
  Loader loader{context, folder, PluginSecurityCheck(), {}, {}, {}};
  if (options.plugin_dir) {
    loader.plugin_dir = absolute_path(context, *options.plugin_dir, "the plugin directory given");
  }
  if (root.IsNull()) {
    topology.plugin_dir = loader.plugin_dir;
    return topology;  // an empty file is an empty topology
  }
  if (!root.IsMap()) {
    context.fail(position_of(root),
                 "expected a map with the keys cluster, plugin_dir, nodes, functions, server, "
                 "sandbox, security at the top level, got " +
                     topology_internal::describe(root));
  }
  const MapReader top(context, Value{root, position_of(root), ""});
  top.check_keys({"cluster", "plugin_dir", "nodes", "functions", "server", "sandbox", "security"},
                 "the top-level map");

  topology.security = topology_internal::read_security(context, top, folder);
  if (options.allow_writable_plugins) topology.security.allow_writable_plugins = true;
  try {
    loader.security = PluginSecurityCheck(topology.security);
  } catch (const Error& error) {
    context.fail({}, std::string("security.trusted_keys: ") + error.what());  // changed since read
  }
  read_cluster(loader, top, topology);
  if (options.nats_url) topology.nats_url = *options.nats_url;
  if (options.controller) topology.controller = true;
  if (topology.controller && topology.nats_url.empty()) {
    context.fail({},
                 "cluster.controller needs cluster.nats (or --nats URL): a controller "
                 "keeps the view of hosts that join over NATS");
  }
  read_server(loader, top, topology.server);
  topology_internal::read_sandbox_section(context, top, topology.sandbox);
  const std::filesystem::path file_plugin_dir =
      read_plugin_dir(context, top, folder, options.plugin_dir.has_value());
  if (!options.plugin_dir) loader.plugin_dir = file_plugin_dir;
  topology.plugin_dir = loader.plugin_dir;

  std::map<std::string, Position> node_ids;
  for_each_item(loader, top, "nodes", [&](const Value& item) {
    topology.nodes.push_back(read_node(loader, item, node_ids));
  });
  std::map<std::string, Position> function_ids;
  for_each_item(loader, top, "functions", [&](const Value& item) {
    topology.functions.push_back(read_function(loader, item, function_ids));
  });
  return topology;
}

}  // namespace edge
