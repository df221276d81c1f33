// load_topology and apply_topology: the YAML file format of config/README.md.
#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/plugin.hpp>
#include <edge/topology.hpp>

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

const fs::path kDataDir = fs::path(EDGE_TEST_DATA_DIR) / "topology";
const fs::path kPluginDir = fs::path(EDGE_TEST_PLUGIN_DIR);
const fs::path kFixtureDir = fs::path(EDGE_TEST_FIXTURE_DIR);
const fs::path kSourceDir = fs::path(EDGE_SOURCE_DIR);

// Loads with plugin_dir pointing at the built example plugins, as edge-host's
// --plugin-dir would.
edge::TopologyOptions built_plugins() {
  edge::TopologyOptions options;
  options.plugin_dir = kPluginDir;
  return options;
}

fs::path plugin(const char* file) { return (kPluginDir / file).lexically_normal(); }

// A fresh directory, removed with everything in it at the end of the test.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "edge-topology-test-XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const fs::path& path() const { return path_; }
  fs::path write(const fs::path& name, const std::string& text) const {
    fs::path file = path_ / name;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary);
    out << text;
    REQUIRE(out.good());
    return file;
  }

 private:
  fs::path path_;
};

// A path as a YAML single-quoted scalar.
std::string yaml_path(const fs::path& path) {
  std::string quoted = "'";
  for (const char character : path.string()) {
    quoted += character;
    if (character == '\'') quoted += '\'';
  }
  return quoted + "'";
}

struct Failure {
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;  // what() without the "file:line:column: " prefix
};

Failure failure_of(const fs::path& file, const edge::TopologyOptions& options = built_plugins()) {
  try {
    edge::load_topology(file, options);
  } catch (const edge::ConfigError& error) {
    const std::string prefix = file.string() + ":" + std::to_string(error.line()) + ":" +
                               std::to_string(error.column()) + ": ";
    const std::string what = error.what();
    REQUIRE_MESSAGE(what.rfind(prefix, 0) == 0, what);
    CHECK(error.file() == file);
    return {error.line(), error.column(), what.substr(prefix.size())};
  }
  FAIL("expected a ConfigError from " << file.string());
  return {};
}

Failure failure_of_text(const std::string& yaml) {
  const TempDir dir;
  return failure_of(dir.write("topology.yaml", yaml));
}

}  // namespace

TEST_CASE("a file using every key is read as written") {
  const edge::Topology topology = edge::load_topology(kDataDir / "full.yaml", built_plugins());

  CHECK(topology.source == (kDataDir / "full.yaml").lexically_normal());
  CHECK(topology.cluster_name == "plant-7");
  CHECK(topology.heartbeat_timeout_seconds == 12.5);
  CHECK(topology.plugin_dir == kPluginDir.lexically_normal());

  REQUIRE(topology.nodes.size() == 2);
  const edge::EdgeNode& gateway = topology.nodes[0];
  CHECK(gateway.id == "gw-1");
  CHECK(gateway.name == "Gateway 1");
  CHECK(gateway.location == "hall A");
  CHECK(gateway.capabilities == std::vector<std::string>{"gpio", "modbus"});
  CHECK(gateway.max_functions == 4);
  CHECK(gateway.resources.cpu_percent == 12.5);
  CHECK(gateway.resources.memory_mb == 100);
  CHECK(gateway.resources.memory_max_mb == 512);
  CHECK(gateway.status == edge::EdgeNodeStatus::Online);
  CHECK(topology.nodes[1].id == "cam-1");

  REQUIRE(topology.functions.size() == 2);
  const edge::FunctionSpec& greet = topology.functions[0];
  CHECK(greet.function.id == "greet");
  CHECK(greet.function.name == "Greeter");
  CHECK(greet.function.plugin == plugin("echo.so"));
  CHECK(greet.function.memory_mb == 32);
  CHECK(greet.function.timeout_seconds == 2.5);
  CHECK(greet.function.environment ==
        std::map<std::string, std::string>{
            {"EMPTY", ""}, {"GREETING", "hello world"}, {"PORT", "8080"}});
  CHECK(greet.function.required_capabilities == std::vector<std::string>{"gpio"});
  CHECK(greet.placement == edge::Placement::LeastLoaded);
  CHECK_FALSE(static_cast<bool>(greet.function.handler));
  CHECK(topology.functions[1].function.plugin == plugin("sleep.so"));
}

TEST_CASE("omitted keys take their defaults") {
  const TempDir dir;
  const fs::path file = dir.write("site.yaml",
                                  "nodes:\n"
                                  "  - id: n1\n"
                                  "functions:\n"
                                  "  - id: f1\n"
                                  "    plugin: echo\n");
  const edge::Topology topology = edge::load_topology(file, built_plugins());
  CHECK(topology.cluster_name == "edge");
  CHECK(topology.heartbeat_timeout_seconds == 30);

  REQUIRE(topology.nodes.size() == 1);
  const edge::EdgeNode& node = topology.nodes[0];
  CHECK(node.name == "n1");
  CHECK(node.location.empty());
  CHECK(node.capabilities.empty());
  CHECK(node.max_functions == 10);
  CHECK(node.resources.cpu_percent == 0);
  CHECK(node.resources.memory_mb == 0);
  CHECK(node.resources.memory_max_mb == 1024);

  REQUIRE(topology.functions.size() == 1);
  const edge::FunctionSpec& spec = topology.functions[0];
  CHECK(spec.function.name == "f1");
  CHECK(spec.function.environment.empty());
  CHECK(spec.placement == edge::Placement::All);

  SUBCASE("partial resources keep the other figures' defaults") {
    const fs::path partial = dir.write("partial.yaml",
                                       "nodes:\n"
                                       "  - id: n1\n"
                                       "    resources: {cpu_percent: 50}\n");
    const edge::Topology read = edge::load_topology(partial);
    CHECK(read.nodes.at(0).resources.cpu_percent == 50);
    CHECK(read.nodes.at(0).resources.memory_max_mb == 1024);
  }
}

TEST_CASE("a function's omitted limits come from its plugin's descriptor") {
  const edge::PluginInfo echo = edge::inspect_plugin(plugin("echo.so"));
  const edge::PluginInfo sleep = edge::inspect_plugin(plugin("sleep.so"));
  // The fallback is only observable where the descriptor's values differ
  // from the host's defaults (128 MB, 30 s) and from the values written below.
  REQUIRE(echo.default_timeout_ms != 0);
  REQUIRE(echo.default_timeout_ms != 30000);
  REQUIRE(echo.default_memory_mb != 0);
  REQUIRE(echo.default_memory_mb != 128);
  REQUIRE(sleep.default_memory_mb != 128);
  REQUIRE(sleep.default_timeout_ms != 2000);

  const TempDir dir;
  const fs::path file =
      dir.write("site.yaml",
                "functions:\n"
                "  - {id: defaults, plugin: echo}\n"
                "  - {id: nap, plugin: sleep}\n"
                "  - {id: explicit, plugin: sleep, timeout_seconds: 2, memory_mb: 48,\n"
                "     required_capabilities: [gpio]}\n"
                "  - id: host-defaults\n"
                "    plugin: " +
                    yaml_path(kFixtureDir / "deadline.so") + "\n");
  const edge::Topology topology = edge::load_topology(file, built_plugins());
  REQUIRE(topology.functions.size() == 4);

  const edge::EdgeFunction& defaults = topology.functions[0].function;
  CHECK(defaults.timeout_seconds == echo.default_timeout_ms / 1000.0);
  CHECK(defaults.memory_mb == echo.default_memory_mb);
  CHECK(defaults.required_capabilities == echo.required_capabilities);

  const edge::EdgeFunction& nap = topology.functions[1].function;
  CHECK(nap.timeout_seconds == sleep.default_timeout_ms / 1000.0);
  CHECK(nap.memory_mb == sleep.default_memory_mb);

  const edge::EdgeFunction& explicit_values = topology.functions[2].function;
  CHECK(explicit_values.timeout_seconds == 2);
  CHECK(explicit_values.memory_mb == 48);
  CHECK(explicit_values.required_capabilities == std::vector<std::string>{"gpio"});

  // deadline.so's descriptor leaves both at 0: the host's 128 MB and 30 s.
  const edge::PluginInfo deadline = edge::inspect_plugin(kFixtureDir / "deadline.so");
  REQUIRE(deadline.default_memory_mb == 0);
  REQUIRE(deadline.default_timeout_ms == 0);
  const edge::EdgeFunction& host_defaults = topology.functions[3].function;
  CHECK(host_defaults.memory_mb == 128);
  CHECK(host_defaults.timeout_seconds == 30);
}

TEST_CASE("omitted required_capabilities come from the descriptor; written ones replace them") {
  const TempDir dir;
  const std::string plugin_path = yaml_path(kFixtureDir / "needs_gpio.so");
  const fs::path file = dir.write("site.yaml",
                                  "functions:\n"
                                  "  - {id: inherits, plugin: " +
                                      plugin_path +
                                      "}\n"
                                      "  - {id: overrides, plugin: " +
                                      plugin_path +
                                      ", required_capabilities: [camera]}\n"
                                      "  - {id: clears, plugin: " +
                                      plugin_path + ", required_capabilities: []}\n");
  const edge::Topology topology = edge::load_topology(file, built_plugins());
  REQUIRE(topology.functions.size() == 3);
  CHECK(topology.functions[0].function.required_capabilities == std::vector<std::string>{"gpio"});
  CHECK(topology.functions[1].function.required_capabilities == std::vector<std::string>{"camera"});
  CHECK(topology.functions[2].function.required_capabilities.empty());
}

TEST_CASE("a plugin is named or given as a path, and resolved to an absolute normal path") {
  const TempDir dir;
  const std::string absolute = yaml_path(kPluginDir / "echo.so");
  const fs::path file = dir.write("site.yaml",
                                  "functions:\n"
                                  "  - {id: by-name, plugin: echo}\n"
                                  "  - {id: by-file-name, plugin: echo.so}\n"
                                  "  - {id: relative, plugin: ./echo.so}\n"
                                  "  - {id: not-normal, plugin: x/../echo.so}\n"
                                  "  - {id: absolute, plugin: " +
                                      absolute + "}\n");
  const edge::Topology topology = edge::load_topology(file, built_plugins());
  REQUIRE(topology.functions.size() == 5);
  for (const edge::FunctionSpec& spec : topology.functions) {
    INFO(spec.function.id);
    CHECK(spec.function.plugin == plugin("echo.so"));
    CHECK(spec.function.plugin.is_absolute());
  }
}

TEST_CASE("plugin_dir defaults to the file's folder and resolves against it") {
  const TempDir dir;
  fs::create_directories(dir.path() / "lib");
  fs::create_directories(dir.path() / "conf");
  fs::copy_file(plugin("echo.so"), dir.path() / "lib" / "echo.so");
  fs::copy_file(plugin("echo.so"), dir.path() / "conf" / "echo.so");
  const fs::path lib = (dir.path() / "lib").lexically_normal();
  const fs::path conf = (dir.path() / "conf").lexically_normal();

  SUBCASE("relative plugin_dir: against the file's folder, not the working directory") {
    const fs::path file = dir.write("conf/site.yaml",
                                    "plugin_dir: ../lib\n"
                                    "functions: [{id: hello, plugin: echo}]\n");
    const edge::Topology topology = edge::load_topology(file);
    CHECK(topology.plugin_dir == lib);
    CHECK(topology.functions.at(0).function.plugin == lib / "echo.so");
  }
  SUBCASE("no plugin_dir: the file's folder") {
    const fs::path file = dir.write("conf/site.yaml", "functions: [{id: hello, plugin: echo}]\n");
    const edge::Topology topology = edge::load_topology(file);
    CHECK(topology.plugin_dir == conf);
    CHECK(topology.functions.at(0).function.plugin == conf / "echo.so");
  }
  SUBCASE("relative plugin paths resolve against plugin_dir") {
    const fs::path file = dir.write("conf/site.yaml",
                                    "plugin_dir: ../lib\n"
                                    "functions: [{id: hello, plugin: ../conf/echo.so}]\n");
    CHECK(edge::load_topology(file).functions.at(0).function.plugin == conf / "echo.so");
  }
  SUBCASE("the caller's plugin_dir replaces the file's") {
    const fs::path file = dir.write("conf/site.yaml",
                                    "plugin_dir: does-not-exist\n"
                                    "functions: [{id: hello, plugin: echo}]\n");
    edge::TopologyOptions options;
    options.plugin_dir = lib;
    const edge::Topology topology = edge::load_topology(file, options);
    CHECK(topology.plugin_dir == lib);
    CHECK(topology.functions.at(0).function.plugin == lib / "echo.so");
  }
  SUBCASE("a plugin_dir that is not a directory is reported where it is written") {
    const fs::path file =
        dir.write("conf/site.yaml", "cluster: {name: a}\nplugin_dir: ../nowhere\n");
    const Failure failure = failure_of(file, {});
    CHECK(failure.line == 2);
    CHECK(failure.column == 13);
    CHECK(failure.message == "plugin_dir: " + (dir.path() / "nowhere").lexically_normal().string() +
                                 " does not exist");
  }
}

TEST_CASE("errors name the file, line and column, what was expected and what was found") {
  SUBCASE("unknown key") {
    const Failure failure = failure_of(kDataDir / "unknown_node_key.yaml");
    CHECK(failure.line == 3);
    CHECK(failure.column == 5);
    CHECK(failure.message ==
          "unknown key 'replicas' in node 'gw-1' (expected one of: id, name, location, "
          "capabilities, max_functions, resources)");
  }
  SUBCASE("a string where a number belongs") {
    const Failure failure = failure_of(kDataDir / "bad_timeout.yaml");
    CHECK(failure.line == 8);
    CHECK(failure.column == 22);
    CHECK(failure.message ==
          "functions[2].timeout_seconds: expected a positive number of seconds, got \"abc\"");
  }
  SUBCASE("duplicate node id") {
    const Failure failure = failure_of(kDataDir / "duplicate_node_id.yaml");
    CHECK(failure.line == 5);
    CHECK(failure.column == 9);
    CHECK(failure.message == "duplicate node id 'gw-1' (first defined at line 3)");
  }
  SUBCASE("duplicate function id") {
    const Failure failure = failure_of(kDataDir / "duplicate_function_id.yaml");
    CHECK(failure.line == 4);
    CHECK(failure.column == 10);
    CHECK(failure.message == "duplicate function id 'greet' (first defined at line 2)");
  }
  SUBCASE("a node id and a function id may be equal") {
    const TempDir dir;
    const fs::path file = dir.write("site.yaml",
                                    "nodes: [{id: same}]\n"
                                    "functions: [{id: same, plugin: echo}]\n");
    CHECK_NOTHROW(edge::load_topology(file, built_plugins()));
  }
  SUBCASE("duplicate map key, which yaml-cpp itself keeps twice") {
    const Failure failure = failure_of(kDataDir / "duplicate_key.yaml");
    CHECK(failure.line == 5);
    CHECK(failure.column == 5);
    CHECK(failure.message == "duplicate key 'name' in node 'gw-1' (first at line 3)");
  }
  SUBCASE("unknown placement") {
    const Failure failure = failure_of(kDataDir / "unknown_placement.yaml");
    CHECK(failure.line == 4);
    CHECK(failure.column == 16);
    CHECK(failure.message ==
          "functions[0].placement: unknown placement 'random' (expected all or least_loaded)");
  }
  SUBCASE("plugin not found") {
    const Failure failure = failure_of(kDataDir / "missing_plugin.yaml");
    CHECK(failure.line == 3);
    CHECK(failure.column == 13);
    CHECK(failure.message ==
          "functions[0].plugin: plugin 'nope' not found: " + plugin("nope.so").string());
  }
  SUBCASE("a YAML syntax error carries yaml-cpp's position and message") {
    const Failure failure = failure_of(kDataDir / "syntax_error.yaml");
    CHECK(failure.line == 2);
    CHECK(failure.column == 10);
    CHECK(failure.message == "invalid YAML: end of sequence flow not found");
  }
  SUBCASE("a list at the top level") {
    const Failure failure = failure_of(kDataDir / "not_a_map.yaml");
    CHECK(failure.line == 1);
    CHECK(failure.column == 1);
    CHECK(failure.message ==
          "expected a map with the keys cluster, plugin_dir, nodes, functions, server, sandbox, "
          "security at "
          "the top level, got a list");
  }
}

TEST_CASE("missing, unreadable and oversized files are errors at 0:0 saying why") {
  const TempDir dir;
  const fs::path missing = dir.path() / "absent.yaml";
  Failure failure = failure_of(missing);
  CHECK(failure.line == 0);
  CHECK(failure.column == 0);
  CHECK(failure.message == "cannot open: No such file or directory");

  failure = failure_of(dir.path());
  CHECK(failure.message == "cannot open: Is a directory");

  failure = failure_of("");
  CHECK(failure.message == "cannot open: No such file or directory");

  // A comment just over the limit: refused before yaml-cpp sees it.
  failure = failure_of(dir.write("huge.yaml", "#" + std::string(std::size_t{1024} * 1024, 'x')));
  CHECK(failure.line == 0);
  CHECK(failure.message == "cannot read: larger than 1 MiB; a topology file is small");

  edge::TopologyOptions empty_plugin_dir;
  empty_plugin_dir.plugin_dir = "";
  failure = failure_of(kDataDir / "empty.yaml", empty_plugin_dir);
  CHECK(failure.line == 0);
  CHECK(failure.message == "the plugin directory given '' has no absolute path: Invalid argument");
}

TEST_CASE("an empty file, or one of comments only, is an empty topology") {
  for (const char* name : {"empty.yaml", "comments_only.yaml"}) {
    INFO(name);
    const edge::Topology topology = edge::load_topology(kDataDir / name);
    CHECK(topology.nodes.empty());
    CHECK(topology.functions.empty());
    CHECK(topology.cluster_name == "edge");
    CHECK(topology.plugin_dir == kDataDir.lexically_normal());
  }
  const TempDir dir;
  const edge::Topology sections =
      edge::load_topology(dir.write("s.yaml", "cluster:\nnodes:\nfunctions:\n"));
  CHECK(sections.nodes.empty());
  CHECK(sections.functions.empty());
}

namespace {

struct BadCase {
  std::string what;
  std::string yaml;
  std::size_t line;
  std::size_t column;
  std::string message;  // a substring of the message
};

}  // namespace

TEST_CASE("process isolation and the sandbox section are read") {
  const TempDir dir;
  const edge::Topology topology = edge::load_topology(
      dir.write(
          "topology.yaml",
          "sandbox:\n  crash_limit: 3\n  crash_window_seconds: 10\n  cooldown_seconds: 2.5\n"
          "  max_queue: 7\n  max_processes: 20\n  max_open_files: 100\n  output_limit_bytes: 0\n"
          "  seccomp: false\n"
          "functions:\n  - {id: a, plugin: echo, isolation: process, max_workers: 3}\n"
          "  - {id: b, plugin: echo, isolation: none, idempotent: true}\n"
          "  - {id: c, plugin: echo}\n"),
      built_plugins());
  CHECK(topology.sandbox.crash_limit == 3);
  CHECK(topology.sandbox.crash_window_seconds == 10);
  CHECK(topology.sandbox.cooldown_seconds == 2.5);
  CHECK(topology.sandbox.max_queue == 7);
  CHECK(topology.sandbox.max_processes == 20);
  CHECK(topology.sandbox.max_open_files == 100);
  CHECK(topology.sandbox.output_limit_bytes == 0);
  CHECK_FALSE(topology.sandbox.seccomp);
  REQUIRE(topology.functions.size() == 3);
  CHECK(topology.functions[0].function.isolation == edge::Isolation::Process);
  CHECK(topology.functions[0].function.max_workers == 3);
  CHECK(topology.functions[1].function.isolation == edge::Isolation::None);
  CHECK(topology.functions[1].function.idempotent);
  CHECK_FALSE(topology.functions[2].function.idempotent);
  CHECK(topology.functions[2].function.isolation == edge::Isolation::None);
  CHECK(topology.functions[2].function.max_workers == 1);
}

TEST_CASE("every malformed value is refused with its position") {
  const std::string plugins = "functions:\n  - id: f\n    plugin: echo\n";
  const std::vector<BadCase> cases = {
      {"scalar document", "just text\n", 1, 1,
       "expected a map with the keys cluster, plugin_dir, nodes, functions, server, sandbox, "
       "security at "
       "the top level, got \"just text\""},
      {"second document", "nodes: []\n---\nfunctions: []\n", 2, 1, "expected one YAML document"},
      // yaml-cpp 0.7's LoadAll loops, allocating, on these (its issue #1040).
      {"a stray comma", ",\n", 1, 1, "invalid YAML: unexpected ','"},
      {"a stray comma after comments", "# site\n, so\ncluster: {}\n", 2, 1,
       "invalid YAML: unexpected ','"},
      {"a stray comma after a document marker", "---\n,\n", 2, 1, "invalid YAML: unexpected ','"},
      {"unknown top-level key", "cluster: {}\nreplicas: 3\n", 2, 1,
       "unknown key 'replicas' in the top-level map (expected one of: cluster, plugin_dir, nodes, "
       "functions, server, sandbox, security)"},
      {"non-string key", "? [a, b]\n: 1\n", 1, 3,
       "top level: expected a plain string as key, got a list"},
      {"merge key", "nodes:\n  - <<: {id: a}\n", 2, 5, "unknown key '<<' in nodes[0]"},

      {"cluster as a list", "cluster: [a]\n", 1, 10, "cluster: expected a map, got a list"},
      {"cluster unknown key", "cluster: {nmae: a}\n", 1, 11, "unknown key 'nmae' in cluster"},
      {"cluster empty name", "cluster: {name: ''}\n", 1, 17,
       "cluster.name: expected a non-empty string"},
      {"heartbeat zero", "cluster:\n  heartbeat_timeout_seconds: 0\n", 2, 30,
       "cluster.heartbeat_timeout_seconds: expected a positive number of seconds, got \"0\" "
       "(allowed: > 0 and <= 86400)"},
      {"heartbeat negative", "cluster: {heartbeat_timeout_seconds: -1}\n", 1, 38, "got \"-1\""},
      {"heartbeat infinite", "cluster: {heartbeat_timeout_seconds: .inf}\n", 1, 38,
       "got \".inf\" (not a finite number)"},
      {"heartbeat boolean", "cluster: {heartbeat_timeout_seconds: true}\n", 1, 38,
       "expected a positive number of seconds, got the boolean true"},
      {"heartbeat null", "cluster:\n  heartbeat_timeout_seconds:\n", 2, 3, "got nothing (null)"},
      {"plugin_dir as a list", "plugin_dir: [a]\n", 1, 13,
       "plugin_dir: expected a non-empty string, got a list"},

      {"nodes as a map", "nodes:\n  gw-1: {}\n", 2, 3, "nodes: expected a list, got a map"},
      {"node as a string", "nodes:\n  - gw-1\n", 2, 5, "nodes[0]: expected a map, got \"gw-1\""},
      {"node without id", "nodes:\n  - name: x\n", 2, 5, "nodes[0]: missing required key 'id'"},
      {"empty id", "nodes:\n  - id: ''\n", 2, 9,
       "nodes[0].id: expected an id of 1-128 characters from A-Z a-z 0-9 . _ - (not '.' or '..'), "
       "got the quoted string \"\""},
      {"id with a space", "nodes:\n  - id: gw 1\n", 2, 9, "got \"gw 1\""},
      {"id with a slash", "nodes:\n  - id: a/b\n", 2, 9, "nodes[0].id: expected an id"},
      {"id dot dot", "nodes:\n  - id: ..\n", 2, 9, "nodes[0].id: expected an id"},
      {"id dot", "nodes:\n  - id: .\n", 2, 9, "nodes[0].id: expected an id"},
      {"id too long", "nodes:\n  - id: " + std::string(129, 'a') + "\n", 2, 9,
       "nodes[0].id: expected an id"},
      {"id as a list", "nodes:\n  - id: [a]\n", 2, 9, "got a list"},
      {"id null", "nodes:\n  - id:\n", 2, 5, "nodes[0].id: expected an id"},
      {"unknown key before a bad id uses the path", "nodes:\n  - id: a b\n    size: 1\n", 3, 5,
       "unknown key 'size' in nodes[0]"},
      {"empty node name", "nodes:\n  - {id: a, name: ''}\n", 2, 19,
       "nodes[0].name: expected a non-empty string"},
      {"null node name", "nodes:\n  - id: a\n    name:\n", 3, 5,
       "nodes[0].name: expected a non-empty string, got nothing (null)"},
      {"NUL in a string", "nodes:\n  - {id: a, location: \"x\\0y\"}\n", 2, 23,
       "contains a NUL byte"},
      {"capabilities as a string", "nodes:\n  - {id: a, capabilities: gpio}\n", 2, 27,
       "nodes[0].capabilities: expected a list of capability names, got \"gpio\""},
      {"capability as a map", "nodes:\n  - {id: a, capabilities: [{x: 1}]}\n", 2, 28,
       "nodes[0].capabilities[0]: expected a non-empty string, got a map"},
      {"duplicate capability", "nodes:\n  - {id: a, capabilities: [gpio, gpu, gpio]}\n", 2, 39,
       "nodes[0].capabilities[2]: duplicate capability 'gpio'"},
      {"max_functions zero", "nodes:\n  - {id: a, max_functions: 0}\n", 2, 28,
       "nodes[0].max_functions: expected a whole number from 1 to 100000, got \"0\""},
      {"max_functions too large", "nodes:\n  - {id: a, max_functions: 100001}\n", 2, 28,
       "got \"100001\""},
      {"max_functions fraction", "nodes:\n  - {id: a, max_functions: 2.5}\n", 2, 28, "got \"2.5\""},
      {"max_functions huge", "nodes:\n  - {id: a, max_functions: 99999999999999999999}\n", 2, 28,
       "(out of range)"},
      {"max_functions quoted", "nodes:\n  - {id: a, max_functions: \"5\"}\n", 2, 28,
       "got the quoted string \"5\""},
      {"max_functions boolean", "nodes:\n  - {id: a, max_functions: yes}\n", 2, 28,
       "got the boolean yes"},
      {"resources as a list", "nodes:\n  - {id: a, resources: [1]}\n", 2, 24,
       "nodes[0].resources: expected a map, got a list"},
      {"unknown resource", "nodes:\n  - {id: a, resources: {disk_mb: 1}}\n", 2, 25,
       "unknown key 'disk_mb' in resources of node 'a' (expected one of: cpu_percent, memory_mb, "
       "memory_max_mb)"},
      {"cpu above 100", "nodes:\n  - {id: a, resources: {cpu_percent: 101}}\n", 2, 38,
       "nodes[0].resources.cpu_percent: expected a number from 0 to 100, got \"101\""},
      {"negative memory", "nodes:\n  - {id: a, resources: {memory_mb: -1}}\n", 2, 36,
       "nodes[0].resources.memory_mb: expected a number of megabytes >= 0, got \"-1\""},
      {"NaN memory", "nodes:\n  - {id: a, resources: {memory_max_mb: .nan}}\n", 2, 40,
       "got \".nan\" (not a finite number)"},

      {"functions as a map", "functions: {f: echo}\n", 1, 12,
       "functions: expected a list, got a map"},
      {"function without plugin", "functions:\n  - id: f\n", 2, 5,
       "functions[0]: missing required key 'plugin'"},
      {"unknown function key", plugins + "    replicas: 2\n", 4, 5,
       "unknown key 'replicas' in function 'f' (expected one of: id, plugin, name, memory_mb, "
       "timeout_seconds, environment, required_capabilities, placement, sha256, isolation, "
       "max_workers, idempotent)"},
      {"idempotent as yes", plugins + "    idempotent: yes\n", 4, 17,
       "functions[0].idempotent: expected true or false"},
      {"unknown isolation", plugins + "    isolation: container\n", 4, 16,
       "functions[0].isolation: expected none or process, got \"container\""},
      {"max_workers zero", plugins + "    isolation: process\n    max_workers: 0\n", 5, 18,
       "functions[0].max_workers: expected a whole number of worker processes from 1 to 64"},
      {"max_workers without process isolation", plugins + "    max_workers: 2\n", 4, 18,
       "functions[0].max_workers: max_workers applies to isolation: process only"},
      {"sandbox unknown key", "sandbox: {crash_limt: 3}\n", 1, 11,
       "unknown key 'crash_limt' in sandbox"},
      {"sandbox crash limit zero", "sandbox: {crash_limit: 0}\n", 1, 24,
       "sandbox.crash_limit: expected a whole number from 1 to 1000000"},
      {"sandbox cooldown negative", "sandbox: {cooldown_seconds: -1}\n", 1, 29,
       "sandbox.cooldown_seconds: expected a positive number of seconds"},
      {"sandbox seccomp as yes", "sandbox: {seccomp: yes}\n", 1, 20,
       "sandbox.seccomp: expected true or false"},
      {"memory zero", plugins + "    memory_mb: 0\n", 4, 16,
       "functions[0].memory_mb: expected a positive number of megabytes, got \"0\""},
      {"memory negative", plugins + "    memory_mb: -5\n", 4, 16, "got \"-5\""},
      {"memory -inf", plugins + "    memory_mb: -.inf\n", 4, 16, "(not a finite number)"},
      {"memory NaN", plugins + "    memory_mb: .NaN\n", 4, 16, "(not a finite number)"},
      {"memory overflowing a double", plugins + "    memory_mb: 1e400\n", 4, 16, "(out of range)"},
      {"memory quoted", plugins + "    memory_mb: \"128\"\n", 4, 16,
       "got the quoted string \"128\""},
      {"memory tagged as a string", plugins + "    memory_mb: !!str 128\n", 4, 16,
       "got a value tagged tag:yaml.org,2002:str \"128\""},
      {"memory hexadecimal", plugins + "    memory_mb: 0x80\n", 4, 16, "got \"0x80\""},
      {"memory as a list", plugins + "    memory_mb: [1]\n", 4, 16, "got a list"},
      {"timeout above a day", plugins + "    timeout_seconds: 86401\n", 4, 22,
       "(allowed: > 0 and <= 86400)"},
      {"timeout word", plugins + "    timeout_seconds: inf\n", 4, 22, "got \"inf\""},
      {"environment as a list", plugins + "    environment: [A]\n", 4, 18,
       "functions[0].environment: expected a map, got a list"},
      {"environment name", plugins + "    environment: {MY-VAR: 1}\n", 4, 19,
       "functions[0].environment: 'MY-VAR' is not a valid variable name"},
      {"environment name starting with a digit", plugins + "    environment: {1A: x}\n", 4, 19,
       "'1A' is not a valid variable name"},
      {"environment value null", plugins + "    environment:\n      A:\n", 5, 7,
       "functions[0].environment.A: expected a string, got nothing (null)"},
      {"environment value map", plugins + "    environment: {A: {b: c}}\n", 4, 22,
       "functions[0].environment.A: expected a string, got a map"},
      {"environment duplicate", plugins + "    environment: {A: x, A: y}\n", 4, 25,
       "duplicate key 'A' in environment of function 'f'"},
      {"required_capabilities as a string", plugins + "    required_capabilities: gpio\n", 4, 28,
       "functions[0].required_capabilities: expected a list of capability names"},
      {"placement as a list", plugins + "    placement: [all]\n", 4, 16,
       "functions[0].placement: expected a string, got a list"},
      {"placement with a dash", plugins + "    placement: least-loaded\n", 4, 16,
       "unknown placement 'least-loaded'"},
      {"empty plugin", "functions:\n  - {id: f, plugin: ''}\n", 2, 21,
       "functions[0].plugin: expected a non-empty string"},
      {"plugin name with a space", "functions:\n  - {id: f, plugin: ec ho}\n", 2, 21,
       "expected a plugin name (A-Z a-z 0-9 . _ -) or a path to a .so file, got \"ec ho\""},
      {"plugin path missing", "functions:\n  - {id: f, plugin: ./sub/missing.so}\n", 2, 21,
       "plugin './sub/missing.so' not found: " + plugin("sub/missing.so").string()},
      {"plugin path a directory", "functions:\n  - {id: f, plugin: /}\n", 2, 21,
       "plugin '/' is not a file: /"},
      {"plugin not loadable",
       "functions:\n  - {id: f, plugin: " + yaml_path(kFixtureDir / "wrong_abi.so") + "}\n", 2, 21,
       "cannot be used: plugin " + (kFixtureDir / "wrong_abi.so").lexically_normal().string() +
           ": ABI version mismatch"},
      {"plugin not a shared library",
       "functions:\n  - {id: f, plugin: " + yaml_path(kFixtureDir / "not_elf.so") + "}\n", 2, 21,
       // (the quoted value is cut after 60 characters: match what follows it)
       "' cannot be used: plugin " + (kFixtureDir / "not_elf.so").lexically_normal().string() +
           ": "},
      {"self-referencing alias", "nodes: &n [*n]\n", 1, 8, "nodes[0]: expected a map, got a list"},

      {"server as a list", "server: [a]\n", 1, 9, "server: expected a map, got a list"},
      {"server unknown key", "server: {port: 80}\n", 1, 10,
       "unknown key 'port' in server (expected one of: listen, token, body_limit_bytes, "
       "read_timeout_seconds, idle_timeout_seconds, drain_timeout_seconds, max_connections, "
       "threads)"},
      {"listen without a port", "server: {listen: localhost}\n", 1, 18,
       "server.listen: expected HOST:PORT (such as 127.0.0.1:8080 or [::1]:8080, port 0 to "
       "65535), got \"localhost\""},
      {"listen port too large", "server: {listen: '127.0.0.1:65536'}\n", 1, 18,
       "server.listen: expected HOST:PORT"},
      {"listen IPv6 without brackets", "server: {listen: '::1:80'}\n", 1, 18,
       "server.listen: expected HOST:PORT"},
      {"listen as a number", "server: {listen: 8080}\n", 1, 18,
       "server.listen: expected HOST:PORT"},
      {"token with a space", "server: {token: 'a b'}\n", 1, 17,
       "server.token: expected 1 to 4096 visible ASCII characters (no spaces)"},
      {"empty token", "server: {token: ''}\n", 1, 17, "server.token: expected a non-empty string"},
      {"body limit zero", "server: {body_limit_bytes: 0}\n", 1, 28,
       "server.body_limit_bytes: expected a whole number of bytes from 1 to 1073741824"},
      {"body limit as a float", "server: {body_limit_bytes: 1.5}\n", 1, 28,
       "server.body_limit_bytes: expected a whole number"},
      {"read timeout zero", "server: {read_timeout_seconds: 0}\n", 1, 32,
       "server.read_timeout_seconds: expected a positive number of seconds"},
      {"idle timeout negative", "server: {idle_timeout_seconds: -5}\n", 1, 32,
       "server.idle_timeout_seconds: expected a positive number of seconds"},
      {"drain timeout negative", "server: {drain_timeout_seconds: -1}\n", 1, 33,
       "server.drain_timeout_seconds: expected a number of seconds from 0 to 86400"},
      {"max connections zero", "server: {max_connections: 0}\n", 1, 27,
       "server.max_connections: expected a whole number from 1 to 1000000"},
      {"threads zero", "server: {threads: 0}\n", 1, 19,
       "server.threads: expected a whole number from 1 to 1024"},
  };
  for (const BadCase& bad : cases) {
    CAPTURE(bad.what);
    CAPTURE(bad.yaml);
    const Failure failure = failure_of_text(bad.yaml);
    CHECK(failure.line == bad.line);
    CHECK(failure.column == bad.column);
    CHECK_MESSAGE(failure.message.find(bad.message) != std::string::npos, failure.message);
  }
}

TEST_CASE("the server section: defaults, every key, and IPv6 listen addresses") {
  const TempDir dir;
  const edge::Topology defaults = edge::load_topology(dir.write("empty.yaml", ""));
  CHECK(defaults.server.listen.host == "127.0.0.1");
  CHECK(defaults.server.listen.port == 8080);
  CHECK(defaults.server.token.empty());
  CHECK(defaults.server.body_limit_bytes == 1024 * 1024);
  CHECK(defaults.server.read_timeout_seconds == 10);
  CHECK(defaults.server.idle_timeout_seconds == 60);
  CHECK(defaults.server.drain_timeout_seconds == 10);
  CHECK(defaults.server.max_connections == 1024);
  CHECK(defaults.server.threads == 0);

  const edge::Topology full = edge::load_topology(dir.write("full.yaml",
                                                            "server:\n"
                                                            "  listen: 0.0.0.0:0\n"
                                                            "  token: s3cr3t-T0ken\n"
                                                            "  body_limit_bytes: 2048\n"
                                                            "  read_timeout_seconds: 2.5\n"
                                                            "  idle_timeout_seconds: 30\n"
                                                            "  drain_timeout_seconds: 0\n"
                                                            "  max_connections: 10\n"
                                                            "  threads: 3\n"));
  CHECK(full.server.listen.host == "0.0.0.0");
  CHECK(full.server.listen.port == 0);
  CHECK(full.server.token == "s3cr3t-T0ken");
  CHECK(full.server.body_limit_bytes == 2048);
  CHECK(full.server.read_timeout_seconds == 2.5);
  CHECK(full.server.idle_timeout_seconds == 30);
  CHECK(full.server.drain_timeout_seconds == 0);
  CHECK(full.server.max_connections == 10);
  CHECK(full.server.threads == 3);

  const edge::Topology ipv6 =
      edge::load_topology(dir.write("ipv6.yaml", "server: {listen: '[::1]:9000'}\n"));
  CHECK(ipv6.server.listen.host == "::1");
  CHECK(ipv6.server.listen.port == 9000);
  CHECK(ipv6.server.listen.to_string() == "[::1]:9000");

  const edge::Topology blank = edge::load_topology(dir.write("blank.yaml", "server:\n"));
  CHECK(blank.server.listen.port == 8080);
}

TEST_CASE("parse_listen_address accepts HOST:PORT and [IPV6]:PORT only") {
  CHECK(edge::parse_listen_address("localhost:80")->host == "localhost");
  CHECK(edge::parse_listen_address("127.0.0.1:65535")->port == 65535);
  CHECK(edge::parse_listen_address("[::]:0")->host == "::");
  for (const char* bad : {"", ":80", "host", "host:", "host:-1", "host:+1", "host:1x",
                          "host:123456", "::1:80", "[host]:80", "[::1]80", "a b:80", "[]:80"}) {
    CAPTURE(bad);
    CHECK_FALSE(edge::parse_listen_address(bad).has_value());
  }
}

TEST_CASE("limits at their bounds are accepted") {
  const TempDir dir;
  const fs::path file =
      dir.write("site.yaml",
                "cluster: {heartbeat_timeout_seconds: 86400}\n"
                "nodes:\n"
                "  - id: " +
                    std::string(128, 'a') +
                    "\n"
                    "    max_functions: 100000\n"
                    "    resources: {cpu_percent: 100, memory_mb: 0, memory_max_mb: 0}\n"
                    "  - {id: b, max_functions: +1, resources: {cpu_percent: 0.0}}\n"
                    "functions:\n"
                    "  - {id: f, plugin: echo, memory_mb: 1e-3, timeout_seconds: 86400}\n"
                    "  - {id: g, plugin: echo, memory_mb: !!float 1048576, timeout_seconds: .5}\n");
  const edge::Topology topology = edge::load_topology(file, built_plugins());
  CHECK(topology.heartbeat_timeout_seconds == 86400);
  CHECK(topology.nodes.at(0).max_functions == 100000);
  CHECK(topology.nodes.at(0).resources.cpu_percent == 100);
  CHECK(topology.nodes.at(1).max_functions == 1);
  CHECK(topology.functions.at(0).function.memory_mb == 1e-3);
  CHECK(topology.functions.at(1).function.memory_mb == 1048576);
  CHECK(topology.functions.at(1).function.timeout_seconds == 0.5);
}

TEST_CASE("hostile documents end in a ConfigError, never a crash") {
  SUBCASE("a 10 MB file") {
    std::string yaml = "nodes:\n";
    while (yaml.size() < 10UL * 1024 * 1024)
      yaml += "  - {id: n" + std::to_string(yaml.size()) + "}\n";
    const Failure failure = failure_of_text(yaml);
    CHECK(failure.message == "cannot read: larger than 1 MiB; a topology file is small");
  }
  SUBCASE("deeply nested flow lists") {
    const Failure failure =
        failure_of_text("nodes: " + std::string(100000, '[') + std::string(100000, ']') + "\n");
    CHECK(failure.line == 1);
    CHECK(failure.message.find("invalid YAML: nested too deeply") == 0);
  }
  SUBCASE("deeply nested block maps") {
    std::string yaml;
    for (int depth = 0; depth < 1000; ++depth) yaml += std::string(depth, ' ') + "k:\n";
    const Failure failure = failure_of_text(yaml);
    CHECK(failure.message.find("invalid YAML: nested too deeply") == 0);
  }
  SUBCASE("aliases that multiply") {
    // A "billion laughs" list: 4^30 leaves if walked. yaml-cpp shares aliased
    // nodes, and neither the loader nor its messages walk below the levels of
    // the format.
    std::string levels = "&a0 [x, x, x, x]";
    for (int level = 1; level < 30; ++level) {
      const std::string previous = "*a" + std::to_string(level - 1);
      levels += ", &a" + std::to_string(level) + " [";
      for (int copy = 0; copy < 4; ++copy) {
        if (copy > 0) levels += ", ";
        levels += previous;
      }
      levels += "]";
    }
    const Failure failure = failure_of_text("nodes: [[" + levels + "]]\n");
    CHECK(failure.message == "nodes[0]: expected a map, got a list");
  }
  SUBCASE("every truncation and many byte flips of a valid file") {
    std::ifstream in(kDataDir / "full.yaml", std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    const std::string original = buffer.str();
    const TempDir dir;
    const auto load = [&](const std::string& text) {
      const fs::path file = dir.write("mutant.yaml", text);
      try {
        edge::load_topology(file, built_plugins());
      } catch (const edge::ConfigError&) {
        // refusing is fine; anything else escapes and fails the test
      }
    };
    for (std::size_t length = 0; length <= original.size(); length += 7) {
      load(original.substr(0, length));
    }
    std::mt19937 random(12345);
    const std::string alphabet =
        "[]{}:,-&*!|>'\"#%@`? \n\t\\\x01\xff"
        "ab09.";
    for (int round = 0; round < 300; ++round) {
      std::string mutant = original;
      for (int flip = 0; flip < 3; ++flip) {
        mutant[random() % mutant.size()] = alphabet[random() % alphabet.size()];
      }
      load(mutant);
    }
  }
}

TEST_CASE("the shipped topologies in config/ are valid") {
  const edge::Topology demo =
      edge::load_topology(kSourceDir / "config" / "demo.yaml", built_plugins());
  CHECK(demo.nodes.size() >= 3);
  CHECK(demo.functions.size() >= 6);
  const edge::Topology minimal =
      edge::load_topology(kSourceDir / "config" / "minimal.yaml", built_plugins());
  CHECK(minimal.nodes.size() == 1);
  REQUIRE(minimal.functions.size() == 1);
  CHECK(minimal.functions[0].function.plugin == plugin("echo.so"));
}

TEST_CASE("apply_topology registers the nodes and places each function by its placement") {
  const TempDir dir;
  const fs::path file = dir.write(
      "site.yaml", "plugin_dir: " + yaml_path(kPluginDir) +
                       "\n"
                       "nodes:\n"
                       "  - {id: gw-1, capabilities: [gpio]}\n"
                       "  - {id: gw-2, capabilities: [gpio]}\n"
                       "  - {id: cam-1, capabilities: [camera]}\n"
                       "functions:\n"
                       "  - {id: hello, plugin: echo}\n"
                       "  - {id: count, plugin: counter, placement: least_loaded, "
                       "required_capabilities: [gpio]}\n"
                       "  - {id: snap, plugin: echo, required_capabilities: [camera]}\n"
                       "  - {id: scan-all, plugin: echo, required_capabilities: [lidar]}\n"
                       "  - {id: scan-one, plugin: echo, placement: least_loaded, "
                       "required_capabilities: [lidar]}\n");
  const edge::Topology topology = edge::load_topology(file);
  edge::EdgeCluster cluster;
  edge::apply_topology(cluster, topology);

  std::vector<std::string> node_ids;
  for (const edge::EdgeNode& node : cluster.nodes()) node_ids.push_back(node.id);
  CHECK(node_ids == std::vector<std::string>{"cam-1", "gw-1", "gw-2"});

  CHECK(cluster.nodes_running("hello") == std::vector<std::string>{"cam-1", "gw-1", "gw-2"});
  CHECK(cluster.placement("hello") == edge::Placement::All);
  const std::vector<std::string> counting = cluster.nodes_running("count");
  REQUIRE(counting.size() == 1);
  CHECK((counting[0] == "gw-1" || counting[0] == "gw-2"));
  CHECK(cluster.placement("count") == edge::Placement::LeastLoaded);
  CHECK(cluster.nodes_running("snap") == std::vector<std::string>{"cam-1"});

  // Nothing qualifies for the lidar functions: no error, the cluster keeps both.
  CHECK(cluster.nodes_running("scan-all").empty());
  CHECK(cluster.nodes_running("scan-one").empty());
  CHECK(cluster.function("scan-all").has_value());
  CHECK(cluster.function("scan-one").has_value());
  CHECK(cluster.health().pending_functions == 2);  // both run nowhere yet

  // ...and places them when a node that qualifies registers.
  edge::EdgeNode lidar;
  lidar.id = "lidar-1";
  lidar.name = "lidar-1";
  lidar.capabilities = {"lidar"};
  cluster.register_node(lidar);
  CHECK(cluster.nodes_running("scan-all") == std::vector<std::string>{"lidar-1"});
  CHECK(cluster.nodes_running("scan-one") == std::vector<std::string>{"lidar-1"});
  CHECK(cluster.health().pending_functions == 0);
}

TEST_CASE("apply_topology reports a function the cluster rejects, naming it") {
  edge::Topology topology;
  topology.source = "/etc/edge/site.yaml";
  edge::FunctionSpec spec;
  spec.function.id = "broken";
  spec.function.plugin = plugin("echo.so");
  spec.function.timeout_seconds = 0;  // load_topology never produces this
  topology.functions.push_back(spec);

  edge::EdgeCluster cluster;
  try {
    edge::apply_topology(cluster, topology);
    FAIL("expected a DeploymentError");
  } catch (const edge::DeploymentError& error) {
    const std::string message = error.what();
    CHECK(message.find("/etc/edge/site.yaml: ") == 0);
    CHECK(message.find("'broken'") != std::string::npos);
  }
}
