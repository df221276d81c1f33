// Runs the real edge-host binary as a child process and checks what a user
// sees: its output, its error lines and its exit status.
#include "child_process.hpp"

#include <edge/topology.hpp>

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;

const std::string kHost = EDGE_HOST_BINARY;
const std::string kPluginDir = EDGE_TEST_PLUGIN_DIR;
const std::filesystem::path kDataDir = EDGE_INTEGRATION_DATA_DIR;
const std::string kDemo = EDGE_DEMO_TOPOLOGY;
// A running host serves its API; on a free port, so that tests can run in parallel.
const std::string kAnyPort = "127.0.0.1:0";

struct HostRun {
  ChildProcess::Exit exit;
  std::string output;
  std::string errors;
};

// Runs edge-host to completion; a run that hangs is killed after 10 s.
HostRun run_host(std::vector<std::string> arguments, std::string input = {}) {
  arguments.insert(arguments.begin(), kHost);
  ChildProcess host(std::move(arguments), std::move(input));
  const ChildProcess::Exit exit = host.wait(10s);
  return {exit, host.output(), host.errors()};
}

// The demo topology with the plugins of this build.
std::vector<std::string> demo(std::vector<std::string> more = {}) {
  std::vector<std::string> arguments{"--config", kDemo, "--plugin-dir", kPluginDir};
  arguments.insert(arguments.end(), more.begin(), more.end());
  return arguments;
}

Topology load_demo() { return load_topology(kDemo, TopologyOptions{kPluginDir}); }

// The demo's function implemented by `plugin` (e.g. "echo"), so that the
// tests follow config/demo.yaml when its ids change.
std::string demo_function_using(const std::string& plugin) {
  for (const FunctionSpec& spec : load_demo().functions) {
    if (spec.function.plugin.filename() == plugin + ".so") return spec.function.id;
  }
  FAIL("config/demo.yaml has no function using the " << plugin << " plugin");
  return {};
}

std::size_t line_count(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

std::string plural(std::size_t count, const std::string& noun) {
  return std::to_string(count) + " " + noun + (count == 1 ? "" : "s");
}

void require_clean_exit(const ChildProcess::Exit& exit) {
  REQUIRE_FALSE(exit.timed_out);
  REQUIRE(exit.exited);
  CHECK(exit.code == 0);
}

}  // namespace

TEST_CASE("--version and --help print to stdout and exit 0") {
  const HostRun version = run_host({"--version"});
  require_clean_exit(version.exit);
  CHECK(version.output.starts_with("edge-host "));
  CHECK(version.errors.empty());

  const HostRun help = run_host({"--help"});
  require_clean_exit(help.exit);
  CHECK(help.output.starts_with("Usage: edge-host --config FILE"));
  CHECK(help.output.find("--invoke ID") != std::string::npos);
  CHECK(help.errors.empty());
}

TEST_CASE("--check on the demo topology prints a summary and exits 0") {
  const Topology topology = load_demo();
  const HostRun run = run_host(demo({"--check"}));
  require_clean_exit(run.exit);
  CHECK(run.output.starts_with("ok: " + plural(topology.nodes.size(), "node") + ", " +
                               plural(topology.functions.size(), "function")));
  CHECK(line_count(run.output) == 1);
  CHECK(run.errors.empty());
}

TEST_CASE("--check on a bad topology names file:line:column and exits 1") {
  const std::string file = (kDataDir / "bad_node_key.yaml").string();
  const HostRun run = run_host({"--config", file, "--check"});
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == 1);
  CHECK(run.output.empty());
  CHECK(run.errors.starts_with("edge-host: error: " + file + ":4:5: unknown key 'capabilites'"));
  CHECK(line_count(run.errors) == 1);
}

TEST_CASE("--check on a missing file exits 1 naming it") {
  const std::string file = (kDataDir / "no_such_topology.yaml").string();
  const HostRun run = run_host({"--config", file, "--check"});
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == 1);
  CHECK(run.errors.starts_with("edge-host: error: " + file + ":0:0: cannot open"));
}

TEST_CASE("--plugin-dir replaces the topology's plugin_dir") {
  const std::filesystem::path missing = kDataDir / "no-such-plugin-dir";
  const HostRun run = run_host({"--config", kDemo, "--plugin-dir", missing.string(), "--check"});
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == 1);
  CHECK(run.errors.find("not found: " + (missing / "").string()) != std::string::npos);
}

TEST_CASE("--invoke writes the function's output exactly, without a newline") {
  const std::string echo = demo_function_using("echo");

  SUBCASE("input from --input") {
    const HostRun run = run_host(demo({"--invoke", echo, "--input", "hello, edge"}));
    require_clean_exit(run.exit);
    CHECK(run.output == "hello, edge");
    CHECK(run.errors.empty());
  }
  SUBCASE("binary input from stdin with --input -") {
    const std::string bytes("line 1\n\0\x01\xff trailing newline\n", 28);
    const HostRun run = run_host(demo({"--invoke", echo, "--input", "-"}), bytes);
    require_clean_exit(run.exit);
    CHECK(run.output == bytes);
  }
  SUBCASE("no input") {
    const HostRun run = run_host(demo({"--invoke", echo}));
    require_clean_exit(run.exit);
    CHECK(run.output.empty());
  }
}

TEST_CASE("--invoke of a failing function exits 1 with its message on stderr") {
  const HostRun run = run_host(demo({"--invoke", demo_function_using("fail")}));
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == 1);
  CHECK(run.output.empty());
  CHECK(run.errors.starts_with("edge-host: error: "));
  CHECK(run.errors.find("requested failure") != std::string::npos);
  CHECK(line_count(run.errors) == 1);
}

TEST_CASE("--invoke of an unknown function exits 1 naming it and the topology") {
  const HostRun run = run_host(demo({"--invoke", "no-such-function"}));
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == 1);
  CHECK(run.output.empty());
  CHECK(run.errors.starts_with("edge-host: error: unknown function 'no-such-function' in " +
                               std::filesystem::path(kDemo).lexically_normal().string()));
  CHECK(line_count(run.errors) == 1);
}

TEST_CASE("a wrong command line exits 2 with one error line and a hint") {
  struct Case {
    std::vector<std::string> arguments;
    std::string message;
  };
  const std::vector<Case> cases{
      {{"--config", kDemo, "--bogus"}, "unknown option '--bogus'"},
      {{"--config"}, "option --config needs a value"},
      {{"--config", kDemo, "--invoke"}, "option --invoke needs a value"},
      {{"--check"}, "missing --config FILE"},
      {{}, "missing --config FILE"},
      {{"--config", kDemo, "extra"}, "unexpected argument 'extra'"},
      {{"--config", kDemo, "--check", "--invoke", "echo"}, "--check and --invoke cannot be used"},
      {{"--config", kDemo, "--input", "x"}, "--input is only meaningful with --invoke"},
      {{"--config", kDemo, "--listen", "8080"}, "option --listen expects HOST:PORT"},
      {{"--config", kDemo, "--check", "--listen", "127.0.0.1:0"},
       "--listen is only meaningful when running the host"},
      {{"--config", kDemo, "--log-level", "loud"},
       "option --log-level expects debug, info, warn or error, got 'loud'"},
      {{"--config", kDemo, "--log-format", "xml"}, "option --log-format expects text or json"},
  };
  for (const Case& test : cases) {
    CAPTURE(test.message);
    const HostRun run = run_host(test.arguments);
    REQUIRE(run.exit.exited);
    CHECK(run.exit.code == 2);
    CHECK(run.output.empty());
    CHECK(run.errors.starts_with("edge-host: error: " + test.message));
    CHECK(line_count(run.errors) == 2);
    CHECK(run.errors.find("Try 'edge-host --help'") != std::string::npos);
  }
}

TEST_CASE("the host prints its placement, runs, and stops cleanly on a signal") {
  const Topology topology = load_demo();
  for (const int signal_number : {SIGTERM, SIGINT}) {
    const std::string signal_name = signal_number == SIGTERM ? "SIGTERM" : "SIGINT";
    CAPTURE(signal_name);
    std::vector<std::string> arguments = demo({"--listen", kAnyPort});
    arguments.insert(arguments.begin(), kHost);
    ChildProcess host(std::move(arguments));

    REQUIRE(host.read_output_until("edge-host: running", 10s));
    CHECK(host.output().find("NODE") != std::string::npos);
    for (const EdgeNode& node : topology.nodes) {
      CHECK(host.output().find("\n" + node.id + " ") != std::string::npos);
    }

    REQUIRE(host.send_signal(signal_number));
    const ChildProcess::Exit exit = host.wait(2s);
    require_clean_exit(exit);
    CHECK(host.output().find("received " + signal_name) != std::string::npos);
    CHECK(host.errors().empty());
  }
}

TEST_CASE("the placement lists functions no node can take") {
  ChildProcess host({kHost, "--config", (kDataDir / "short_heartbeat.yaml").string(),
                     "--plugin-dir", kPluginDir, "--listen", kAnyPort});
  REQUIRE(host.read_output_until("edge-host: running", 10s));
  const std::string& output = host.output();
  CHECK(output.find("(1 pending)") != std::string::npos);
  const std::size_t section = output.find("not running on any node");
  REQUIRE(section != std::string::npos);
  CHECK(output.find("needs-gpu", section) != std::string::npos);
  CHECK(output.find("capabilities gpu", section) != std::string::npos);

  REQUIRE(host.send_signal(SIGTERM));
  require_clean_exit(host.wait(2s));
}

TEST_CASE("the host keeps its nodes alive, and reports them stale after a freeze") {
  // Heartbeat timeout 1 s: without the host's own heartbeats both nodes would
  // be reported stale within about 1.25 s.
  ChildProcess host({kHost, "--config", (kDataDir / "short_heartbeat.yaml").string(),
                     "--plugin-dir", kPluginDir, "--listen", kAnyPort});
  REQUIRE(host.read_output_until("edge-host: running", 10s));
  host.read_output_for(2500ms);
  CHECK(host.output().find("stale") == std::string::npos);

  // A stopped process sends no heartbeats: once it continues, it must see
  // that its nodes missed them, then bring them back.
  REQUIRE(host.send_signal(SIGSTOP));
  std::this_thread::sleep_for(1500ms);
  REQUIRE(host.send_signal(SIGCONT));
  REQUIRE(host.read_output_until("node 'node-b' is back online", 5s));
  const std::string& output = host.output();
  for (const std::string node : {"node-a", "node-b"}) {
    CAPTURE(node);
    const std::size_t stale = output.find("node '" + node + "' is stale");
    const std::size_t back = output.find("node '" + node + "' is back online");
    REQUIRE(stale != std::string::npos);
    REQUIRE(back != std::string::npos);
    CHECK(stale < back);
  }

  REQUIRE(host.send_signal(SIGTERM));
  require_clean_exit(host.wait(2s));
}

}  // namespace edge::test
