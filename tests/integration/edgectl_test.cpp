// Runs the real edgectl against the real edge-host (on port 0), both as
// child processes, and checks what a user or a script sees: tables, the
// server's JSON, raw invoke output, one-line errors and exit statuses.
#include "child_process.hpp"
#include "host_process.hpp"

#include <doctest/doctest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;

const std::string kHost = EDGE_HOST_BINARY;
const std::string kEdgectl = EDGECTL_BINARY;
const std::string kPluginDir = EDGE_TEST_PLUGIN_DIR;
const std::filesystem::path kTopology =
    std::filesystem::path(EDGE_INTEGRATION_DATA_DIR) / "edgectl.yaml";

struct Run {
  ChildProcess::Exit exit;
  std::string output;
  std::string errors;
};

// edge-host serving tests/integration/data/edgectl.yaml on a free port.
class RunningHost {
 public:
  RunningHost()
      : process_({kHost, "--config", kTopology.string(), "--plugin-dir", kPluginDir, "--listen",
                  "127.0.0.1:0"}) {
    // "listening on 127.0.0.1:PORT" once the socket accepts connections.
    constexpr std::string_view kListening = "listening on ";
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    std::size_t at = std::string::npos;
    while (std::chrono::steady_clock::now() < deadline) {
      process_.read_output_for(20ms);
      at = process_.output().find(kListening);
      if (at != std::string::npos && process_.output().find('\n', at) != std::string::npos) break;
    }
    INFO("edge-host stdout: " << process_.output());
    INFO("edge-host stderr: " << process_.errors());
    REQUIRE(at != std::string::npos);
    const std::size_t end = process_.output().find('\n', at);
    REQUIRE(end != std::string::npos);
    address_ = process_.output().substr(at + kListening.size(), end - at - kListening.size());
    REQUIRE(address_.starts_with("127.0.0.1:"));
  }
  ~RunningHost() {
    process_.send_signal(SIGTERM);
    process_.wait(5s);
  }

  std::string url() const { return "http://" + address_; }
  // Reads what the host logged, so that its pipes never fill up and block it.
  void drain() { process_.read_output_for(1ms); }

  // Runs edgectl against this host; a run that hangs is killed after 20 s.
  Run edgectl(std::vector<std::string> arguments, std::string input = {}) {
    arguments.insert(arguments.begin(), {kEdgectl, "--server", url()});
    return run(std::move(arguments), std::move(input));
  }

  static Run run(std::vector<std::string> arguments, std::string input = {}) {
    ChildProcess child(std::move(arguments), std::move(input));
    const ChildProcess::Exit exit = child.wait(20s);
    return {exit, child.output(), child.errors()};
  }

 private:
  ChildProcess process_;
  std::string address_;
};

Run edgectl_alone(std::vector<std::string> arguments) {
  arguments.insert(arguments.begin(), kEdgectl);
  return RunningHost::run(std::move(arguments));
}

void require_exit(const Run& run, int code) {
  INFO("stdout: " << run.output);
  INFO("stderr: " << run.errors);
  REQUIRE_FALSE(run.exit.timed_out);
  REQUIRE(run.exit.exited);
  CHECK(run.exit.code == code);
}

void require_ok(const Run& run) {
  require_exit(run, 0);
  CHECK(run.errors.empty());
}

nlohmann::json json_of(const Run& run) {
  INFO("stdout: " << run.output);
  nlohmann::json value = nlohmann::json::parse(run.output, nullptr, false);
  REQUIRE_FALSE(value.is_discarded());
  return value;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The line of a table that starts with `first_cell` followed by a space.
std::string row(const std::string& table, const std::string& first_cell) {
  std::istringstream lines(table);
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with(first_cell + " ")) return line;
  }
  return "(no row " + first_cell + ")";
}

// A port nothing listens on: bound, then closed (nothing else on this
// machine takes it in the moment before edgectl tries it).
int closed_port() {
  const int descriptor = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(descriptor >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(descriptor, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  socklen_t length = sizeof address;
  REQUIRE(::getsockname(descriptor, reinterpret_cast<sockaddr*>(&address), &length) == 0);
  ::close(descriptor);
  return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("edgectl nodes: a table, or the server's JSON") {
  RunningHost host;
  const Run table = host.edgectl({"nodes"});
  require_ok(table);
  CHECK(table.output.starts_with("NODE "));
  CHECK(contains(row(table.output, "gw-1"), "gpio"));
  CHECK(contains(row(table.output, "gw-1"), " local "));  // not a node of another host
  CHECK(contains(row(table.output, "gw-2"), " 1/10 "));   // echo only, of max_functions 10

  const Run json = host.edgectl({"nodes", "--json"});
  require_ok(json);
  const nlohmann::json nodes = json_of(json)["nodes"];
  REQUIRE(nodes.size() == 2);
  CHECK(nodes[0]["id"] == "gw-1");
  CHECK(nodes[1]["id"] == "gw-2");
  CHECK(nodes[0]["functions"].is_array());
}

TEST_CASE("edgectl functions and function ID") {
  RunningHost host;
  const Run table = host.edgectl({"functions"});
  require_ok(table);
  CHECK(table.output.starts_with("FUNCTION "));
  CHECK(contains(row(table.output, "echo"), "gw-1, gw-2"));
  CHECK(contains(row(table.output, "always-fails"), "least_loaded"));

  const Run json = host.edgectl({"--json", "functions"});  // global options go anywhere
  require_ok(json);
  const nlohmann::json functions = json_of(json)["functions"];
  REQUIRE(functions.size() == 2);
  CHECK(functions[0]["id"] == "always-fails");
  CHECK(functions[1]["id"] == "echo");

  require_ok(host.edgectl({"invoke", "echo", "--input", "x", "--node", "gw-1"}));
  const Run detail = host.edgectl({"function", "echo"});
  require_ok(detail);
  CHECK(contains(row(detail.output, "placement"), "all"));
  CHECK(contains(detail.output, "P99 MS"));
  CHECK(contains(row(detail.output, "gw-1"), " 1 "));  // one call on gw-1

  const Run detail_json = host.edgectl({"function", "echo", "--json"});
  require_ok(detail_json);
  const nlohmann::json echo = json_of(detail_json);
  CHECK(echo["id"] == "echo");
  CHECK(echo["stats"]["gw-1"]["invocations"] == 1);
}

TEST_CASE("edgectl invoke writes the output bytes exactly; input from --input or stdin") {
  RunningHost host;
  const Run from_option = host.edgectl({"invoke", "echo", "--input", "hello"});
  require_ok(from_option);
  CHECK(from_option.output == "hello");  // no newline added

  const Run from_stdin = host.edgectl({"invoke", "echo"}, std::string("line 1\nline 2\n\0end", 18));
  require_ok(from_stdin);
  CHECK(from_stdin.output == std::string("line 1\nline 2\n\0end", 18));

  const Run explicit_stdin = host.edgectl({"invoke", "echo", "--input", "-"}, "piped");
  require_ok(explicit_stdin);
  CHECK(explicit_stdin.output == "piped");

  // Calls above went to the least-loaded node, gw-2 (gw-1 also runs
  // always-fails): this is gw-1's first call of echo.
  const Run on_node =
      host.edgectl({"invoke", "echo", "--input", "x", "--node", "gw-1", "--verbose"});
  require_exit(on_node, 0);
  CHECK(on_node.output == "x");
  CHECK(contains(on_node.errors, "node gw-1"));
  CHECK(contains(on_node.errors, "cold start"));
}

TEST_CASE("edgectl exit status 1 for an error the server answers, with its code and message") {
  RunningHost host;
  const Run failing = host.edgectl({"invoke", "always-fails", "--input", "on purpose"});
  require_exit(failing, 1);
  CHECK(failing.output.empty());
  CHECK(failing.errors.starts_with("edgectl: error: plugin_error: "));
  CHECK(contains(failing.errors, "requested failure: on purpose"));
  CHECK(std::count(failing.errors.begin(), failing.errors.end(), '\n') == 1);  // one line

  const Run unknown = host.edgectl({"function", "nope"});
  require_exit(unknown, 1);
  CHECK(unknown.errors.starts_with("edgectl: error: not_found: "));
  CHECK(contains(unknown.errors, "nope"));

  const Run unknown_invoke = host.edgectl({"invoke", "nope", "--input", "x"});
  require_exit(unknown_invoke, 1);
  CHECK(unknown_invoke.errors.starts_with("edgectl: error: not_found: "));

  const Run unknown_node = host.edgectl({"drain", "no-such-node"});
  require_exit(unknown_node, 1);
  CHECK(unknown_node.errors.starts_with("edgectl: error: not_found: "));

  const Run path_plugin = host.edgectl({"deploy", "evil", "--plugin", "../echo"});
  require_exit(path_plugin, 1);
  CHECK(path_plugin.errors.starts_with("edgectl: error: bad_request: "));
}

TEST_CASE("edgectl deploy, replace and remove a function") {
  RunningHost host;
  const Run deployed = host.edgectl(
      {"deploy", "echo2", "--plugin", "echo", "--placement", "least_loaded", "--memory", "32",
       "--timeout", "5", "--max-in-flight", "4", "--env", "GREETING=hi", "--env", "X=a=b"});
  require_ok(deployed);
  CHECK(deployed.output.starts_with("deployed echo2 on gw-"));

  const Run replaced = host.edgectl(
      {"deploy", "echo2", "--plugin", "echo", "--placement", "least_loaded", "--json"});
  require_ok(replaced);
  const nlohmann::json function = json_of(replaced);
  CHECK(function["id"] == "echo2");
  CHECK(function["placement"] == "least_loaded");
  CHECK(function["nodes"].size() == 1);

  const Run detail = host.edgectl({"function", "echo2", "--json"});
  require_ok(detail);
  CHECK(json_of(detail)["max_in_flight"] == 0);  // replaced without the limit

  const Run pending = host.edgectl({"deploy", "needs-gpu", "--plugin", "echo", "--capability",
                                    "gpu", "--placement", "least_loaded"});
  require_ok(pending);
  CHECK(pending.output == "deployed needs-gpu: pending, no node can take it now\n");

  const Run removed = host.edgectl({"remove", "echo2"});
  require_ok(removed);
  CHECK(removed.output == "removed echo2\n");
  require_exit(host.edgectl({"function", "echo2"}), 1);
  require_exit(host.edgectl({"remove", "echo2"}), 1);

  const Run removed_json = host.edgectl({"remove", "needs-gpu", "--json"});
  require_ok(removed_json);
  CHECK(json_of(removed_json)["removed"] == "needs-gpu");
}

TEST_CASE("edgectl plan shows the chosen node and why the others were rejected") {
  RunningHost host;
  const Run plan = host.edgectl({"plan", "gpio-reader", "--plugin", "echo", "--capability", "gpio",
                                 "--placement", "least_loaded"});
  require_ok(plan);
  CHECK(contains(plan.output, "would run on: gw-1\n"));
  CHECK(contains(plan.output, "REJECTED NODE"));
  CHECK(contains(row(plan.output, "gw-2"), "missing capability 'gpio'"));

  const Run json = host.edgectl({"plan", "gpio-reader", "--plugin", "echo", "--capability", "gpio",
                                 "--placement", "least_loaded", "--json"});
  require_ok(json);
  const nlohmann::json answer = json_of(json);
  CHECK(answer["nodes"] == nlohmann::json::array({"gw-1"}));
  CHECK(answer["rejected"]["gw-2"] == "missing capability 'gpio'");
  // A plan changes nothing.
  require_exit(host.edgectl({"function", "gpio-reader"}), 1);
}

TEST_CASE("edgectl warm, drain and resume") {
  RunningHost host;
  const Run warmed = host.edgectl({"warm", "echo"});
  require_ok(warmed);
  CHECK(warmed.output == "warmed echo on gw-1, gw-2\n");
  const Run warmed_json = host.edgectl({"warm", "echo", "--json"});
  require_ok(warmed_json);
  CHECK(json_of(warmed_json)["warmed"].size() == 2);

  const Run drained = host.edgectl({"drain", "gw-2"});
  require_ok(drained);
  CHECK(drained.output == "node gw-2 is maintenance\n");
  const Run nodes = host.edgectl({"nodes"});
  CHECK(contains(row(nodes.output, "gw-2"), "maintenance"));

  const Run resumed = host.edgectl({"resume", "gw-2", "--json"});
  require_ok(resumed);
  CHECK(json_of(resumed)["status"] == "online");
  const Run drained_json = host.edgectl({"drain", "gw-1", "--json"});
  require_ok(drained_json);
  CHECK(json_of(drained_json)["status"] == "maintenance");
}

TEST_CASE("edgectl health: 0 when healthy, 1 when critical") {
  RunningHost host;
  // Healthy, or degraded if the host reports this machine's real load and
  // the machine is busy (a node over 90 % CPU is overloaded): both exit 0.
  const Run health = host.edgectl({"health"});
  require_ok(health);
  CHECK((health.output.starts_with("status:      healthy\n") ||
         health.output.starts_with("status:      degraded\n")));
  CHECK(contains(health.output, "nodes:       2 "));

  const Run json = host.edgectl({"health", "--json"});
  require_ok(json);
  CHECK((json_of(json)["status"] == "healthy" || json_of(json)["status"] == "degraded"));
  CHECK(json_of(json)["total_nodes"] == 2);

  // Both nodes drained: no node serves anything, the API answers 503.
  require_ok(host.edgectl({"drain", "gw-1"}));
  require_ok(host.edgectl({"drain", "gw-2"}));
  const Run critical = host.edgectl({"health"});
  require_exit(critical, 1);
  CHECK(contains(critical.output, "status:"));
  CHECK(critical.errors.starts_with("edgectl: error: unhealthy: "));
}

TEST_CASE("edgectl top --iterations prints frames without escape codes when piped") {
  RunningHost host;
  for (int call = 0; call < 3; ++call) require_ok(host.edgectl({"invoke", "echo", "--input", "x"}));
  const Run once = host.edgectl({"top", "--iterations", "1"});
  require_ok(once);
  CHECK(once.output.starts_with("edgectl top  " + host.url()));
  CHECK_FALSE(contains(once.output, "\x1b"));
  CHECK(contains(once.output, "CALLS/S"));
  const std::string echo_row = row(once.output, "echo");
  CHECK(contains(echo_row, " 3 "));  // calls so far
  CHECK(contains(row(once.output, "always-fails"), "always-fails"));

  const Run frames = host.edgectl({"top", "--iterations", "2", "--interval", "0.2", "--json"});
  require_ok(frames);
  std::istringstream lines(frames.output);
  std::vector<nlohmann::json> parsed;
  for (std::string line; std::getline(lines, line);) parsed.push_back(nlohmann::json::parse(line));
  REQUIRE(parsed.size() == 2);
  CHECK(parsed[0]["functions"][0]["calls_per_second"].is_null());  // no earlier reading
  CHECK(parsed[1]["functions"][0]["calls_per_second"].is_number());
}

TEST_CASE("edgectl with a token: EDGE_TOKEN or --token, else 401 and exit 1") {
  std::optional<RunningHost> host;
  {
    // The host (started now) and edgectl both read it.
    const ScopedEnvironment token("EDGE_TOKEN", "s3cret");
    host.emplace();
  }
  const Run without = host->edgectl({"nodes"});
  require_exit(without, 1);
  CHECK(without.errors.starts_with("edgectl: error: unauthorized: "));
  require_ok(host->edgectl({"nodes", "--token", "s3cret"}));
  const ScopedEnvironment token("EDGE_TOKEN", "s3cret");
  require_ok(host->edgectl({"nodes"}));
}

TEST_CASE("edgectl exit status 3 when no server answers, naming the URL and the cause") {
  const std::string url = "http://127.0.0.1:" + std::to_string(closed_port());
  const Run run = edgectl_alone({"--server", url, "nodes"});
  require_exit(run, 3);
  CHECK(run.errors == "edgectl: error: cannot connect to " + url + ": Connection refused\n");

  const ScopedEnvironment server("EDGE_SERVER", url);
  const Run from_environment = edgectl_alone({"health"});
  require_exit(from_environment, 3);
  CHECK(contains(from_environment.errors, url));
}

TEST_CASE("edgectl exit status 2 for a wrong command line, before any request") {
  // No server at all: a usage error must not even try to connect.
  const std::string nowhere = "http://127.0.0.1:" + std::to_string(closed_port());
  const std::vector<std::vector<std::string>> wrong{
      {},
      {"frobnicate"},
      {"nodes", "--bogus"},
      {"nodes", "extra"},
      {"function"},
      {"deploy", "f"},
      {"deploy", "f", "--plugin", "echo", "--memory", "lots"},
      {"deploy", "f", "--plugin", "echo", "--placement", "random"},
      {"deploy", "f", "--plugin", "echo", "--env", "NOEQUALS"},
      {"deploy", "f", "--plugin", "echo", "--plugin", "fail"},
      {"top", "--interval", "0"},
      {"top", "--iterations", "-1"},
      {"invoke", "echo", "--json"},
      {"invoke", "echo", "--input"},
      {"--server", "https://example.test", "nodes"},
      {"--server", "http://127.0.0.1:99999", "nodes"},
  };
  for (std::vector<std::string> arguments : wrong) {
    std::string shown;
    for (const std::string& argument : arguments) shown += argument + " ";
    CAPTURE(shown);
    if (std::find(arguments.begin(), arguments.end(), "--server") == arguments.end()) {
      arguments.insert(arguments.begin(), {"--server", nowhere});
    }
    const Run run = edgectl_alone(arguments);
    require_exit(run, 2);
    CHECK(run.output.empty());
    CHECK(run.errors.starts_with("edgectl: error: "));
    CHECK(std::count(run.errors.begin(), run.errors.end(), '\n') == 1);
  }
  const Run help = edgectl_alone({"--help"});
  require_ok(help);
  CHECK(help.output.starts_with("Usage: edgectl "));
}

}  // namespace edge::test
