// render_prometheus over a real cluster running real plugins: specific
// series and values, then the whole page through Prometheus' own parsers.
#include "metrics/prometheus.hpp"

#include <edge/cluster.hpp>
#include <edge/errors.hpp>

#include "child_process.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

using namespace edge;
using namespace std::chrono_literals;
using edge::metrics::render_prometheus;

namespace {

// Ids with every character a label value must escape.
const std::string kOddNode = "odd\"node\\with\nnewline";

EdgeFunction plugin_function(const std::string& id, const std::string& plugin_name) {
  EdgeFunction function{id};
  function.plugin = test::plugin(plugin_name);
  return function;
}

// The value of the sample `series` (name and labels exactly as rendered),
// or "(missing)".
std::string value_of(const std::string& page, const std::string& series) {
  const std::string prefix = series + " ";
  std::size_t start = 0;
  while (start < page.size()) {
    std::size_t end = page.find('\n', start);
    if (end == std::string::npos) end = page.size();
    const std::string_view line(page.data() + start, end - start);
    if (line.starts_with(prefix)) return std::string(line.substr(prefix.size()));
    start = end + 1;
  }
  return "(missing)";
}

std::size_t occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (std::size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
    ++count;
  return count;
}

// A native function that blocks until released, to observe a call in flight.
struct Gate {
  std::mutex mutex;
  std::condition_variable changed;
  bool open = false;

  void release() {
    {
      std::lock_guard lock(mutex);
      open = true;
    }
    changed.notify_all();
  }
  void wait() {
    std::unique_lock lock(mutex);
    changed.wait(lock, [&] { return open; });
  }
};

// Three nodes (one drained) and a fourth with an awkward id; echo on every
// node in service, a failing
// function, a timing-out one and a pending one; some calls of each.
struct ClusterFixture {
  EdgeCluster cluster;
  std::string fail_node;
  std::string slow_node;

  ClusterFixture() {
    for (const std::string& id : {std::string("gw-1"), std::string("gw-2"), std::string("gw-3")}) {
      cluster.register_node(EdgeNode(id));
    }
    // Overloaded, hence Degraded: it takes `all` functions but no
    // least-loaded one, so that the tests know where those land.
    EdgeNode odd(kOddNode);
    odd.resources.cpu_percent = 95;
    cluster.register_node(odd);
    cluster.heartbeat("gw-2", ResourceUsage{42.5, 256, 1024});
    // Drained first, so that no function lands on it (a drain would move
    // them, and their counts with them).
    CHECK(cluster.drain_node("gw-3"));
    CHECK(cluster.deploy_to_all(plugin_function("echo", "echo")) == 3);
    fail_node = cluster.deploy_least_loaded(plugin_function("always-fails", "fail")).value();

    EdgeFunction slow{"slow"};
    slow.handler = [](std::string_view) {
      std::this_thread::sleep_for(20ms);
      return std::string("late");
    };
    slow.timeout_seconds = 0.001;
    slow_node = cluster.deploy_least_loaded(slow).value();

    EdgeFunction needs_gpu = plugin_function("needs-gpu", "echo");
    needs_gpu.required_capabilities = {"gpu"};
    CHECK_FALSE(cluster.deploy_least_loaded(needs_gpu));  // pending

    for (int i = 0; i < 3; ++i) CHECK(cluster.runtime("gw-1")->invoke("echo", "hi") == "hi");
    for (int i = 0; i < 2; ++i) {
      CHECK_THROWS_AS(cluster.runtime(fail_node)->invoke("always-fails"), EdgeExecutionError);
    }
    CHECK_THROWS_AS(cluster.runtime(slow_node)->invoke("slow"), TimeoutError);
    CHECK(cluster.runtime(kOddNode)->invoke("echo", "x") == "x");
  }
};

// Runs a checker on the page; returns its exit code and tells what it said.
int run_checker(std::vector<std::string> command, const std::string& page) {
  test::ChildProcess checker(std::move(command), page);
  const test::ChildProcess::Exit exit = checker.wait(60s);
  INFO("checker stdout: " << checker.output());
  INFO("checker stderr: " << checker.errors());
  REQUIRE_FALSE(exit.timed_out);
  REQUIRE(exit.exited);
  CHECK(exit.code == 0);
  return exit.code;
}

}  // namespace

TEST_CASE("render_prometheus counts calls by outcome, per function and node") {
  ClusterFixture fixture;
  const std::string page = render_prometheus(fixture.cluster);
  const std::string echo_gw1 = R"({function="echo",node="gw-1")";

  CHECK(value_of(page, "edge_function_invocations_total" + echo_gw1 + R"(,outcome="success"})") ==
        "3");
  CHECK(value_of(page, "edge_function_invocations_total" + echo_gw1 + R"(,outcome="error"})") ==
        "0");
  CHECK(value_of(page, "edge_function_invocations_total" + echo_gw1 + R"(,outcome="timeout"})") ==
        "0");

  const std::string fails = R"({function="always-fails",node=")" + fixture.fail_node + "\"";
  CHECK(value_of(page, "edge_function_invocations_total" + fails + R"(,outcome="success"})") ==
        "0");
  CHECK(value_of(page, "edge_function_invocations_total" + fails + R"(,outcome="error"})") == "2");
  CHECK(value_of(page, "edge_function_invocations_total" + fails + R"(,outcome="timeout"})") ==
        "0");

  // A timeout is an error in FunctionStats, but only "timeout" here.
  const std::string slow = R"({function="slow",node=")" + fixture.slow_node + "\"";
  CHECK(value_of(page, "edge_function_invocations_total" + slow + R"(,outcome="error"})") == "0");
  CHECK(value_of(page, "edge_function_invocations_total" + slow + R"(,outcome="timeout"})") == "1");

  // The drained node runs nothing, so it has no function series at all.
  CHECK(page.find(R"(node="gw-3",outcome)") == std::string::npos);
}

TEST_CASE("render_prometheus writes histograms in Prometheus' shape") {
  ClusterFixture fixture;
  const std::string page = render_prometheus(fixture.cluster);
  const std::string echo_gw1 = R"({function="echo",node="gw-1")";

  CHECK(occurrences(page, "# TYPE edge_function_duration_seconds histogram\n") == 1);
  CHECK(occurrences(page, "# HELP edge_function_duration_seconds ") == 1);
  CHECK(value_of(page, "edge_function_duration_seconds_bucket" + echo_gw1 + R"(,le="+Inf"})") ==
        "3");
  CHECK(value_of(page, "edge_function_duration_seconds_count" + echo_gw1 + "}") == "3");
  // An in-process echo takes microseconds, far below 30 s.
  CHECK(value_of(page, "edge_function_duration_seconds_bucket" + echo_gw1 + R"(,le="30"})") == "3");
  CHECK(std::stod(value_of(page, "edge_function_duration_seconds_sum" + echo_gw1 + "}")) > 0);
  CHECK(std::stod(value_of(page, "edge_function_duration_seconds_sum" + echo_gw1 + "}")) < 1);

  // The timed-out call took at least its 20 ms sleep.
  const std::string slow = R"({function="slow",node=")" + fixture.slow_node + "\"";
  CHECK(value_of(page, "edge_function_duration_seconds_bucket" + slow + R"(,le="0.01"})") == "0");
  CHECK(std::stod(value_of(page, "edge_function_duration_seconds_sum" + slow + "}")) >= 0.02);

  CHECK(value_of(page, "edge_function_cold_starts_total" + echo_gw1 + "}") == "1");
  CHECK(value_of(page, "edge_function_cold_start_duration_seconds_count" + echo_gw1 + "}") == "1");
  CHECK(value_of(page, "edge_function_cold_start_duration_seconds_bucket" + echo_gw1 +
                           R"(,le="+Inf"})") == "1");
  // gw-2's echo was never called: deployed, but no cold start yet.
  CHECK(value_of(page, R"(edge_function_cold_starts_total{function="echo",node="gw-2"})") == "0");
  CHECK(value_of(page, R"(edge_function_duration_seconds_count{function="echo",node="gw-2"})") ==
        "0");
}

TEST_CASE("render_prometheus reports nodes and the cluster as gauges") {
  ClusterFixture fixture;
  const std::string page = render_prometheus(fixture.cluster);

  CHECK(value_of(page, R"(edge_node_status{node="gw-3",status="maintenance"})") == "1");
  CHECK(value_of(page, R"(edge_node_status{node="gw-3",status="online"})") == "0");
  CHECK(value_of(page, R"(edge_node_status{node="gw-1",status="online"})") == "1");
  CHECK(value_of(page, R"(edge_node_status{node="gw-1",status="offline"})") == "0");
  CHECK(value_of(page, R"(edge_node_cpu_percent{node="gw-2"})") == "42.5");
  CHECK(value_of(page, R"(edge_node_memory_percent{node="gw-2"})") == "25");
  CHECK(value_of(page, R"(edge_node_healthy{node="gw-1"})") == "1");
  CHECK(value_of(page, R"(edge_node_healthy{node="gw-3"})") == "0");
  CHECK(value_of(page, R"(edge_node_functions{node="gw-3"})") == "0");
  const auto functions_on_gw1 = fixture.cluster.runtime("gw-1")->function_count();
  CHECK(value_of(page, R"(edge_node_functions{node="gw-1"})") == std::to_string(functions_on_gw1));
  const double since_heartbeat =
      std::stod(value_of(page, R"(edge_node_seconds_since_heartbeat{node="gw-2"})"));
  CHECK(since_heartbeat >= 0);
  CHECK(since_heartbeat < 60);

  CHECK(value_of(page, R"(edge_cluster_nodes{status="online"})") == "2");
  CHECK(value_of(page, R"(edge_cluster_nodes{status="degraded"})") == "1");
  CHECK(value_of(page, R"(edge_cluster_nodes{status="maintenance"})") == "1");
  CHECK(value_of(page, R"(edge_cluster_nodes{status="offline"})") == "0");
  CHECK(value_of(page, "edge_cluster_pending_functions") == "1");

  CHECK(std::stod(value_of(page, "process_threads")) >= 1);
  CHECK(std::stod(value_of(page, "process_resident_memory_bytes")) > 0);
  CHECK(page.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
}

TEST_CASE("render_prometheus escapes label values") {
  ClusterFixture fixture;
  const std::string page = render_prometheus(fixture.cluster);
  // "odd"node\with<newline>newline" as \" \\ \n.
  CHECK(
      value_of(
          page,
          R"(edge_function_invocations_total{function="echo",node="odd\"node\\with\nnewline",outcome="success"})") ==
      "1");
  CHECK(page.find(kOddNode) == std::string::npos);  // never raw
}

TEST_CASE("render_prometheus shows calls in flight") {
  EdgeCluster cluster;
  cluster.register_node(EdgeNode("gw-1"));
  Gate gate;
  EdgeFunction blocker{"blocker"};
  blocker.handler = [&gate](std::string_view) {
    gate.wait();
    return std::string();
  };
  cluster.deploy_to_all(blocker);
  std::thread call([&] { cluster.runtime("gw-1")->invoke("blocker"); });
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (cluster.runtime("gw-1")->get_function_stats("blocker").in_flight == 0 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  const std::string page = render_prometheus(cluster);
  gate.release();
  call.join();
  CHECK(value_of(page, R"(edge_function_in_flight{function="blocker",node="gw-1"})") == "1");
  CHECK(value_of(render_prometheus(cluster),
                 R"(edge_function_in_flight{function="blocker",node="gw-1"})") == "0");
}

TEST_CASE("an empty cluster still renders every node and cluster family") {
  EdgeCluster cluster;
  const std::string page = render_prometheus(cluster);
  CHECK(page.find("# TYPE edge_function_invocations_total counter\n") != std::string::npos);
  CHECK(value_of(page, R"(edge_cluster_nodes{status="online"})") == "0");
  CHECK(value_of(page, "edge_cluster_pending_functions") == "0");
}

TEST_CASE("the whole page passes the Prometheus text parser (python3-prometheus-client)") {
  const std::string python = EDGE_TEST_PYTHON;
  REQUIRE_MESSAGE(!python.empty(),
                  "no python3 with prometheus_client: install python3-prometheus-client "
                  "(tools/install-deps.sh) and configure again");
  ClusterFixture fixture;
  const std::string page = render_prometheus(fixture.cluster);
  run_checker({python, EDGE_TEST_PROMETHEUS_CHECKER}, page);
  // The checker itself must reject what it is meant to catch, or this test
  // could not fail: a family written in two blocks.
  test::ChildProcess bad({python, EDGE_TEST_PROMETHEUS_CHECKER},
                         "# HELP a_total A.\n# TYPE a_total counter\na_total 1\n"
                         "# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"y\"} 2\n");
  const test::ChildProcess::Exit exit = bad.wait(60s);
  CHECK(exit.exited);
  CHECK(exit.code == 1);
}

TEST_CASE("process-isolated functions add the worker families, and the page still parses") {
  EdgeCluster cluster;
  cluster.register_node(EdgeNode("gw-1"));
  EdgeFunction untrusted = plugin_function("untrusted", "crash");
  untrusted.isolation = Isolation::Process;
  untrusted.memory_mb = 256;
  cluster.deploy_to_all(untrusted);
  CHECK_THROWS_AS(cluster.runtime("gw-1")->invoke("untrusted", "exit"), WorkerCrashError);
  CHECK(cluster.runtime("gw-1")->invoke("untrusted", "fine") == "ok");
  const std::string page = render_prometheus(cluster);
  CHECK(page.find("edge_function_worker_events_total{function=\"untrusted\",node=\"gw-1\","
                  "event=\"start\"} 2\n") != std::string::npos);
  CHECK(page.find("edge_function_worker_events_total{function=\"untrusted\",node=\"gw-1\","
                  "event=\"crash\"} 1\n") != std::string::npos);
  CHECK(page.find("edge_function_workers{function=\"untrusted\",node=\"gw-1\"} 1\n") !=
        std::string::npos);
  CHECK(page.find("edge_function_breaker_state{function=\"untrusted\",node=\"gw-1\","
                  "state=\"closed\"} 1\n") != std::string::npos);
  const std::string python = EDGE_TEST_PYTHON;
  if (!python.empty()) run_checker({python, EDGE_TEST_PROMETHEUS_CHECKER}, page);
}

TEST_CASE("the whole page passes promtool check metrics, when promtool is installed") {
  const std::string promtool = EDGE_TEST_PROMTOOL;
  if (promtool.empty()) {
    MESSAGE("promtool not installed (Debian package prometheus): skipped");
    return;
  }
  ClusterFixture fixture;
  run_checker({promtool, "check", "metrics"}, render_prometheus(fixture.cluster));
}
