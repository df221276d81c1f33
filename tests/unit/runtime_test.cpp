#include <edge/errors.hpp>
#include <edge/runtime.hpp>

#include "concurrency/epoch.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>

using namespace edge;
using edge::test::fixture;
using edge::test::plugin;

namespace {

EdgeFunction plugin_function(const std::string& id, const std::string& plugin_name) {
  EdgeFunction function{id, id};
  function.plugin = plugin(plugin_name);
  return function;
}

EdgeFunction native_function(const std::string& id, EdgeHandler handler) {
  EdgeFunction function{id, id};
  function.handler = std::move(handler);
  return function;
}

EdgeRuntime make_runtime(int max_functions = 10) {
  EdgeNode node{"node-1", "Node 1"};
  node.max_functions = max_functions;
  return EdgeRuntime(node);
}

template <class Error, class Call>
std::string error_of(Call&& call) {
  try {
    call();
  } catch (const Error& error) {
    return error.what();
  }
  FAIL("expected an exception");
  return {};
}

}  // namespace

TEST_CASE("deploy validates the function and the node") {
  EdgeRuntime runtime = make_runtime(1);
  CHECK_THROWS_AS(runtime.deploy(EdgeFunction{}), DeploymentError);
  EdgeFunction both = native_function("both", [](std::string_view) { return std::string(); });
  both.plugin = plugin("echo");
  CHECK(error_of<DeploymentError>([&] {
          runtime.deploy(both);
        }).find("exactly one of handler and plugin") != std::string::npos);
  CHECK_THROWS_AS(runtime.deploy(EdgeFunction{"neither", "neither"}), DeploymentError);
  EdgeFunction bad = plugin_function("bad", "echo");
  bad.memory_mb = 0;
  CHECK_THROWS_AS(runtime.deploy(bad), DeploymentError);
  bad.memory_mb = 64;
  bad.timeout_seconds = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(runtime.deploy(bad), DeploymentError);
  bad.timeout_seconds = -1;
  CHECK_THROWS_AS(runtime.deploy(bad), DeploymentError);
  EdgeFunction ghost = plugin_function("ghost", "echo");
  ghost.plugin = "/nonexistent/ghost.so";
  CHECK(error_of<DeploymentError>([&] { runtime.deploy(ghost); }).find("/nonexistent/ghost.so") !=
        std::string::npos);
  EdgeFunction needs_gpu = plugin_function("gpu", "echo");
  needs_gpu.required_capabilities = {"gpu"};
  CHECK(error_of<DeploymentError>([&] { runtime.deploy(needs_gpu); }).find("capability") !=
        std::string::npos);
  EdgeFunction huge = plugin_function("huge", "echo");
  huge.memory_mb = 4096;
  CHECK(error_of<DeploymentError>([&] { runtime.deploy(huge); }).find("MB") != std::string::npos);

  runtime.deploy(plugin_function("echo", "echo"));
  CHECK(error_of<DeploymentError>([&] {
          runtime.deploy(plugin_function("second", "echo"));
        }).find("node is full") != std::string::npos);
  runtime.deploy(plugin_function("echo", "echo"));  // replacing does not need room
  CHECK(runtime.function_count() == 1);
}

TEST_CASE("deploy does not load; the first call is a cold start, later ones are warm") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("echo", "echo"));
  CHECK(runtime.cold_start_count() == 0);
  CHECK_FALSE(runtime.get_function_stats("echo").is_warm);
  const EdgeRuntime::CallResult first = runtime.invoke_detailed("echo", "hello");
  CHECK(first.output == "hello");
  CHECK(first.cold_start);
  const EdgeRuntime::CallResult second = runtime.invoke_detailed("echo", "again");
  CHECK(second.output == "again");
  CHECK_FALSE(second.cold_start);
  CHECK(runtime.cold_start_count() == 1);
  CHECK(runtime.total_invocations() == 2);
  CHECK(runtime.get_function_stats("echo").is_warm);
}

TEST_CASE("binary input and output pass through unchanged") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("echo", "echo"));
  const std::string bytes("\0\x01\xff binary\0", 11);
  CHECK(runtime.invoke("echo", bytes) == bytes);
  CHECK(runtime.invoke("echo", "") == "");
}

TEST_CASE("warm_up loads without counting a call or a cold start") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("counter", "counter"));
  CHECK(runtime.warm_up("counter"));
  CHECK_FALSE(runtime.warm_up("nope"));
  CHECK(runtime.cold_start_count() == 0);
  CHECK(runtime.total_invocations() == 0);
  CHECK(runtime.get_function_stats("counter").is_warm);
  const EdgeRuntime::CallResult call = runtime.invoke_detailed("counter");
  CHECK_FALSE(call.cold_start);
  CHECK(call.output == "1");
}

TEST_CASE("unknown ids are std::invalid_argument") {
  EdgeRuntime runtime = make_runtime();
  CHECK_THROWS_AS(runtime.invoke("nope"), std::invalid_argument);
  CHECK_THROWS_AS(runtime.get_function_stats("nope"), std::invalid_argument);
  CHECK_FALSE(runtime.undeploy("nope"));
}

TEST_CASE("a plugin error is an EdgeExecutionError carrying the plugin's message") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("fail", "fail"));
  const std::string message = error_of<EdgeExecutionError>([&] { runtime.invoke("fail"); });
  CHECK(message.find("requested failure") != std::string::npos);
  const FunctionStats stats = runtime.get_function_stats("fail");
  CHECK(stats.invocations == 1);
  CHECK(stats.errors == 1);
  CHECK(stats.timeouts == 0);
}

TEST_CASE("a C++ exception inside a plugin stops at the SDK boundary") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction function{"throws", "throws"};
  function.plugin = fixture("throws");
  runtime.deploy(function);
  CHECK(error_of<EdgeExecutionError>([&] { runtime.invoke("throws"); }).find("boom from plugin") !=
        std::string::npos);
}

TEST_CASE("a native handler's exception becomes an EdgeExecutionError") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(native_function("boom", [](std::string_view) -> std::string {
    throw std::runtime_error("sensor unplugged");
  }));
  CHECK(error_of<EdgeExecutionError>([&] { runtime.invoke("boom"); }).find("sensor unplugged") !=
        std::string::npos);
  runtime.deploy(native_function("upper", [](std::string_view in) {
    std::string out(in);
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return out;
  }));
  CHECK(runtime.invoke_detailed("upper", "abc").cold_start);
  CHECK(runtime.invoke("upper", "abc") == "ABC");
  // A native handler gets warm on its first call even if that call throws.
  CHECK(runtime.cold_start_count() == 2);
}

TEST_CASE("load failures are PluginErrors, counted as failed calls, not cold starts") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction function{"bad", "bad"};
  function.plugin = fixture("wrong_abi");
  runtime.deploy(function);  // deploy does not load: it succeeds
  CHECK(error_of<PluginError>([&] { runtime.invoke("bad"); }).find("ABI version mismatch") !=
        std::string::npos);
  CHECK_THROWS_AS(runtime.warm_up("bad"), PluginError);
  const FunctionStats stats = runtime.get_function_stats("bad");
  CHECK(stats.invocations == 1);
  CHECK(stats.errors == 1);
  CHECK(stats.cold_starts == 0);
  CHECK_FALSE(stats.is_warm);

  function.id = "init";
  function.plugin = fixture("init_fail");
  runtime.deploy(function);
  CHECK(error_of<PluginError>([&] {
          runtime.invoke("init");
        }).find("init refused: missing calibration") != std::string::npos);
}

TEST_CASE("a call slower than its timeout is a TimeoutError after it returns") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction slow = native_function("slow", [](std::string_view) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    return std::string("late");
  });
  slow.timeout_seconds = 0.01;
  runtime.deploy(slow);
  CHECK_THROWS_AS(runtime.invoke("slow"), TimeoutError);
  const FunctionStats stats = runtime.get_function_stats("slow");
  CHECK(stats.timeouts == 1);
  CHECK(stats.errors == 1);
  CHECK(stats.invocations == 1);
}

TEST_CASE("a plugin that stops at its deadline is a TimeoutError") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction sleep = plugin_function("sleep", "sleep");
  sleep.timeout_seconds = 0.05;
  runtime.deploy(sleep);
  CHECK(runtime.invoke("sleep", "5") == "slept 5");
  const auto start = std::chrono::steady_clock::now();
  CHECK_THROWS_AS(runtime.invoke("sleep", "10000"), TimeoutError);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));  // cooperative stop

  EdgeFunction deadline{"deadline", "deadline"};
  deadline.plugin = fixture("deadline");
  runtime.deploy(deadline);
  CHECK_THROWS_AS(runtime.invoke("deadline"), TimeoutError);
  CHECK(runtime.get_function_stats("deadline").timeouts == 1);
}

TEST_CASE("the plugin reads the function's environment") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction env = plugin_function("env", "env");
  env.environment = {{"SITE", "plant-7"}, {"EMPTY", ""}};
  runtime.deploy(env);
  CHECK(runtime.invoke("env", "SITE") == "plant-7");
  CHECK(runtime.invoke("env", "EMPTY") == "");
  CHECK(runtime.invoke("env", "UNSET") == "");
}

TEST_CASE("a redeploy is a new version: state restarts and stats survive; undeploy forgets") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("counter", "counter"));
  CHECK(runtime.invoke("counter") == "1");
  CHECK(runtime.invoke("counter") == "2");
  runtime.deploy(plugin_function("counter", "counter"));
  const EdgeRuntime::CallResult after = runtime.invoke_detailed("counter");
  CHECK(after.cold_start);
  CHECK(after.output == "1");
  CHECK(runtime.get_function_stats("counter").invocations == 3);
  CHECK(runtime.get_function_stats("counter").cold_starts == 2);

  CHECK(runtime.undeploy("counter"));
  CHECK_THROWS_AS(runtime.get_function_stats("counter"), std::invalid_argument);
  CHECK(runtime.function_count() == 0);
  CHECK(runtime.total_invocations() == 3);  // the runtime's totals are cumulative
  CHECK(runtime.cold_start_count() == 2);
  runtime.deploy(plugin_function("counter", "counter"));
  CHECK(runtime.get_function_stats("counter").invocations == 0);
}

TEST_CASE("shutdown runs once per loaded instance, after the version is gone") {
  const std::filesystem::path marker =
      std::filesystem::temp_directory_path() / ("edge-shutdown-" + std::to_string(::getpid()));
  std::filesystem::remove(marker);
  const auto lines = [&] {
    std::ifstream in(marker);
    int count = 0;
    for (std::string line; std::getline(in, line);) count += line == "shutdown";
    return count;
  };
  {
    EdgeRuntime runtime = make_runtime();
    EdgeFunction function{"marker", "marker"};
    function.plugin = fixture("shutdown_marker");
    function.environment = {{"MARKER_FILE", marker.string()}};
    runtime.deploy(function);
    runtime.warm_up("marker");
    runtime.deploy(function);  // replaces the warm version
    edge::concurrency::EpochDomain::global().synchronize();
    CHECK(lines() == 1);
    runtime.invoke("marker");  // loads the new version
    runtime.undeploy("marker");
    edge::concurrency::EpochDomain::global().synchronize();
    CHECK(lines() == 2);
    runtime.deploy(function);
    runtime.warm_up("marker");
  }  // destroying the runtime shuts the last one down
  CHECK(lines() == 3);
  std::filesystem::remove(marker);
}

TEST_CASE("stats: durations, percentiles and JSON") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("sleep", "sleep"));
  for (int i = 0; i < 10; ++i) runtime.invoke("sleep", "2");
  const FunctionStats stats = runtime.get_function_stats("sleep");
  CHECK(stats.invocations == 10);
  CHECK(stats.min_duration_ms >= 2.0);
  CHECK(stats.max_duration_ms >= stats.p99_ms);
  CHECK(stats.p99_ms >= stats.p50_ms);
  CHECK(stats.p50_ms >= stats.min_duration_ms);
  CHECK(stats.avg_duration_ms >= 2.0);
  CHECK(stats.avg_duration_ms < 200.0);
  const nlohmann::json json = stats.to_json();
  for (const char* key :
       {"function_id", "invocations", "errors", "timeouts", "cold_starts", "avg_duration_ms",
        "min_duration_ms", "max_duration_ms", "p50_ms", "p95_ms", "p99_ms", "is_warm"}) {
    CHECK_MESSAGE(json.contains(key), key);
  }

  runtime.deploy(plugin_function("fail", "fail"));
  CHECK_THROWS(runtime.invoke("fail"));
  const RuntimeSummary summary = runtime.summary();
  CHECK(summary.node_id == "node-1");
  CHECK(summary.function_count == 2);
  CHECK(summary.total_invocations == 11);
  CHECK(summary.cold_start_count == 2);  // fail's plugin loaded fine; its invoke failed
  CHECK(summary.total_errors == 1);
  REQUIRE(summary.functions.size() == 2);
  CHECK(summary.functions[0].function_id == "fail");
  const nlohmann::json summary_json = summary.to_json();
  CHECK(summary_json["node_id"] == "node-1");
  CHECK(summary_json["functions"].size() == 2);
}

TEST_CASE("max_in_flight turns away calls beyond the limit with BusyError") {
  EdgeRuntime runtime = make_runtime();
  EdgeFunction sleep = plugin_function("sleep", "sleep");
  sleep.max_in_flight = 1;
  runtime.deploy(sleep);
  runtime.warm_up("sleep");
  std::thread running([&] { CHECK(runtime.invoke("sleep", "200") == "slept 200"); });
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (runtime.get_function_stats("sleep").in_flight == 0 &&
         std::chrono::steady_clock::now() < until) {
    std::this_thread::yield();
  }
  CHECK(error_of<BusyError>([&] { runtime.invoke("sleep", "1"); }).find("busy") !=
        std::string::npos);
  running.join();
  CHECK(runtime.invoke("sleep", "1") == "slept 1");  // free again
  const FunctionStats stats = runtime.get_function_stats("sleep");
  CHECK(stats.invocations == 3);
  CHECK(stats.errors == 1);
  EdgeFunction negative = plugin_function("negative", "echo");
  negative.max_in_flight = -1;
  CHECK_THROWS_AS(runtime.deploy(negative), DeploymentError);
}

TEST_CASE("stats carry Prometheus-shaped histograms of call and cold-start durations") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("sleep", "sleep"));
  for (int i = 0; i < 4; ++i) runtime.invoke("sleep", "3");
  const FunctionStats stats = runtime.get_function_stats("sleep");
  const LatencyHistogram& calls = stats.duration_histogram;
  REQUIRE(calls.upper_bounds_seconds.size() == calls.cumulative_counts.size());
  CHECK(std::isinf(calls.upper_bounds_seconds.back()));
  CHECK(calls.count == 4);
  CHECK(calls.cumulative_counts.back() == 4);
  CHECK(calls.sum_seconds >= 0.012);
  for (std::size_t i = 0; i < calls.upper_bounds_seconds.size(); ++i) {
    if (calls.upper_bounds_seconds[i] < 0.003)
      CHECK(calls.cumulative_counts[i] == 0);  // none faster than 3 ms
    if (i > 0) CHECK(calls.cumulative_counts[i] >= calls.cumulative_counts[i - 1]);
  }
  CHECK(stats.cold_start_histogram.count == 1);
  CHECK(stats.cold_start_histogram.sum_seconds > 0);
}

TEST_CASE("in_flight counts running calls, also on a function undeployed meanwhile") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("sleep", "sleep"));
  CHECK(runtime.in_flight() == 0);
  std::thread call([&] { runtime.invoke("sleep", "200"); });
  while (runtime.in_flight() == 0) std::this_thread::yield();
  CHECK(runtime.undeploy("sleep"));
  CHECK(runtime.in_flight() == 1);  // still running on the retired version
  call.join();
  CHECK(runtime.in_flight() == 0);
}

TEST_CASE("a call running when its function is undeployed still counts in the runtime's totals") {
  EdgeRuntime runtime = make_runtime();
  runtime.deploy(plugin_function("slow", "sleep"));
  REQUIRE(runtime.invoke("slow", "0") == "slept 0");
  std::thread call([&] { CHECK(runtime.invoke("slow", "300") == "slept 300"); });
  while (runtime.in_flight() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  REQUIRE(runtime.undeploy("slow"));  // what a drain does
  CHECK(runtime.in_flight() == 1);
  call.join();
  CHECK(runtime.in_flight() == 0);
  CHECK(runtime.total_invocations() == 2);
  CHECK(runtime.cold_start_count() == 1);
}
