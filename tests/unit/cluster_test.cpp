#include <edge/cluster.hpp>
#include <edge/errors.hpp>

#include "concurrency/epoch.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cmath>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace edge;

namespace {

EdgeNode make_node(const std::string& id, std::vector<std::string> capabilities = {},
                   double cpu = 0, int max_functions = 10) {
  EdgeNode node{id, id};
  node.capabilities = std::move(capabilities);
  node.resources.cpu_percent = cpu;
  node.max_functions = max_functions;
  return node;
}

// A native function that answers with the id of the node... it cannot know
// it, so the routed call reports the node instead.
EdgeFunction make_function(const std::string& id, std::vector<std::string> capabilities = {}) {
  EdgeFunction function{id, id};
  function.handler = [](std::string_view input) { return std::string(input); };
  function.required_capabilities = std::move(capabilities);
  return function;
}

ResourceUsage usage(double cpu, double memory_mb = 0) {
  return ResourceUsage{cpu, memory_mb, 1024};
}

}  // namespace

TEST_CASE("register, re-register and deregister nodes") {
  EdgeCluster cluster;
  CHECK_THROWS_AS(cluster.register_node(EdgeNode{}), std::invalid_argument);
  cluster.register_node(make_node("a"));
  REQUIRE(cluster.node("a"));
  CHECK(cluster.node("a")->name == "a");
  CHECK_FALSE(cluster.node("b"));

  cluster.deploy_to_all(make_function("f"));
  CHECK(cluster.runtime("a")->has_function("f"));
  EdgeNode renamed = make_node("a", {"gpio"});
  renamed.location = "hall B";
  cluster.register_node(renamed);  // a restarted node keeps its functions
  CHECK(cluster.node("a")->location == "hall B");
  CHECK(cluster.node("a")->has_capability("gpio"));
  CHECK(cluster.runtime("a")->has_function("f"));

  CHECK(cluster.deregister_node("a"));
  CHECK_FALSE(cluster.deregister_node("a"));
  CHECK(cluster.runtime("a") == nullptr);
  CHECK(cluster.nodes_running("f").empty());
}

// Without the fix the placement index kept a pointer to the freed node:
// AddressSanitizer (the asan preset) and valgrind report the use-after-free.
TEST_CASE("a deregistered node is never chosen again, even after its memory is reused") {
  EdgeCluster cluster;
  cluster.register_node(make_node("leaving"));
  cluster.register_node(make_node("staying", {}, 50));  // busier: the less attractive one
  CHECK(cluster.deregister_node("leaving"));
  edge::concurrency::EpochDomain::global().synchronize();  // the entry is freed now
  for (int i = 0; i < 20; ++i)
    cluster.register_node(make_node("filler-" + std::to_string(i), {"other"}, 99));
  CHECK(cluster.deploy_least_loaded(make_function("g")) == std::optional<std::string>("staying"));
  CHECK(cluster.nodes_running("g") == std::vector<std::string>{"staying"});
}

TEST_CASE("a node leaving costs the other nodes' copies no cold start") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  cluster.register_node(make_node("b"));
  EdgeFunction echo{"echo"};
  echo.plugin = edge::test::plugin("echo");
  cluster.deploy_to_all(echo);
  CHECK(cluster.runtime("b")->invoke_detailed("echo", "x").cold_start);
  CHECK(cluster.deregister_node("a"));
  CHECK(cluster.drain_node("a") == false);
  CHECK_FALSE(cluster.runtime("b")->invoke_detailed("echo", "x").cold_start);
  cluster.register_node(make_node("c"));
  CHECK(cluster.drain_node("c"));
  CHECK_FALSE(cluster.runtime("b")->invoke_detailed("echo", "x").cold_start);
}

TEST_CASE("heartbeats: unknown node, offline comes back, usage drives degraded and online") {
  EdgeCluster cluster;
  CHECK_THROWS_AS(cluster.heartbeat("ghost"), std::invalid_argument);
  CHECK_THROWS_AS(cluster.heartbeat("ghost", usage(1)), std::invalid_argument);
  cluster.register_node(make_node("a"));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CHECK(cluster.detect_stale_nodes(0.01) == std::vector<std::string>{"a"});
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Offline);
  cluster.heartbeat("a");
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Online);

  cluster.heartbeat("a", usage(95));
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Degraded);
  CHECK(cluster.node("a")->resources.cpu_percent == 95);
  cluster.heartbeat("a", usage(20));
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Online);

  CHECK_THROWS_AS(cluster.heartbeat("a", usage(NAN)), std::invalid_argument);
  CHECK_THROWS_AS(cluster.heartbeat("a", usage(-1)), std::invalid_argument);
  CHECK_THROWS_AS(cluster.heartbeat("a", ResourceUsage{1, INFINITY, 1024}), std::invalid_argument);
  CHECK(cluster.node("a")->resources.cpu_percent == 20);  // rejected figures change nothing

  cluster.drain_node("a");
  cluster.heartbeat("a");
  cluster.heartbeat("a", usage(99));
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Maintenance);
}

TEST_CASE("deploy_to_all: every qualifying node, and nodes that come later") {
  EdgeCluster cluster;
  cluster.register_node(make_node("cam-1", {"camera"}));
  cluster.register_node(make_node("cam-2", {"camera"}));
  cluster.register_node(make_node("plain"));
  cluster.register_node(make_node("full", {"camera"}, 0, 1));
  cluster.deploy_to_all(make_function("filler"));  // fills "full"
  CHECK(cluster.deploy_to_all(make_function("detect", {"camera"})) == 2);
  CHECK(cluster.nodes_running("detect") == std::vector<std::string>{"cam-1", "cam-2"});
  CHECK(cluster.deploy_to_all(make_function("detect", {"camera"})) == 2);  // a redeploy, still 2

  cluster.register_node(make_node("cam-3", {"camera"}));
  CHECK(cluster.nodes_running("detect") == std::vector<std::string>{"cam-1", "cam-2", "cam-3"});

  EdgeFunction invalid = make_function("bad");
  invalid.timeout_seconds = 0;
  CHECK_THROWS_AS(cluster.deploy_to_all(invalid), DeploymentError);
  CHECK_THROWS_AS(cluster.deploy_least_loaded(invalid), DeploymentError);
}

TEST_CASE("deploy_least_loaded picks the lowest score, then fewer functions, then id") {
  EdgeCluster cluster;
  cluster.register_node(make_node("busy", {}, 60));
  cluster.register_node(make_node("idle-b", {}, 10));
  cluster.register_node(make_node("idle-a", {}, 10));
  cluster.register_node(make_node("hot", {}, 95));  // overloaded: never a candidate
  CHECK(cluster.deploy_least_loaded(make_function("f1")) ==
        "idle-a");  // tie on score and count: id
  // idle-a now runs 1 of 10 (10 %): still tied on score with idle-b, which has fewer functions
  CHECK(cluster.deploy_least_loaded(make_function("f2")) == "idle-b");
  CHECK(cluster.deploy_least_loaded(make_function("f3")) == "idle-a");  // both 10 %, 1 function: id
  // idle-a at 20 %, idle-b at 10 %
  CHECK(cluster.deploy_least_loaded(make_function("f4")) == "idle-b");

  // A redeploy moves (or keeps) the one copy, never two.
  for (int i = 0; i < 5; ++i) {
    cluster.deploy_least_loaded(make_function("f1"));
    CHECK(cluster.nodes_running("f1").size() == 1);
  }
  int copies = 0;
  for (const EdgeNode& node : cluster.nodes())
    copies += cluster.runtime(node.id)->has_function("f1");
  CHECK(copies == 1);
}

TEST_CASE("memory and capabilities are respected by least-loaded placement") {
  EdgeCluster cluster;
  EdgeNode small = make_node("small");
  small.resources.memory_max_mb = 64;
  cluster.register_node(small);
  cluster.register_node(make_node("gpu-node", {"gpu"}, 50));
  CHECK(cluster.deploy_least_loaded(make_function("infer", {"gpu"})) == "gpu-node");
  EdgeFunction big = make_function("big");
  big.memory_mb = 512;
  CHECK(cluster.deploy_least_loaded(big) == "gpu-node");
}

TEST_CASE("a function no node can take is pending until one qualifies") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  CHECK_FALSE(cluster.deploy_least_loaded(make_function("infer", {"gpu"})));
  CHECK(cluster.health().pending_functions == 1);
  CHECK_THROWS_AS(cluster.invoke("infer"), EdgeExecutionError);
  cluster.register_node(make_node("gpu-1", {"gpu"}));
  CHECK(cluster.nodes_running("infer") == std::vector<std::string>{"gpu-1"});
  CHECK(cluster.health().pending_functions == 0);
  CHECK(cluster.invoke("infer", "frame") == "frame");
}

TEST_CASE(
    "drain re-places least-loaded functions, removes deploy_to_all ones; resume brings them back") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  cluster.register_node(make_node("b", {}, 50));
  cluster.deploy_to_all(make_function("everywhere"));
  CHECK(cluster.deploy_least_loaded(make_function("single")) == "a");

  CHECK(cluster.drain_node("a"));
  CHECK_FALSE(cluster.drain_node("nope"));
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Maintenance);
  CHECK(cluster.runtime("a")->function_count() == 0);
  CHECK(cluster.nodes_running("single") == std::vector<std::string>{"b"});
  CHECK(cluster.nodes_running("everywhere") == std::vector<std::string>{"b"});
  CHECK_FALSE(cluster.deploy_least_loaded(make_function("new", {"nothing-has-this"})));
  CHECK(cluster.deploy_least_loaded(make_function("other")) == "b");  // not on a drained node

  CHECK(cluster.resume_node("a"));
  CHECK_FALSE(cluster.resume_node("nope"));
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Online);
  CHECK(cluster.nodes_running("everywhere") == std::vector<std::string>{"a", "b"});
  CHECK(cluster.nodes_running("single") == std::vector<std::string>{"b"});  // not moved back
}

TEST_CASE("draining the last node able to run a function leaves it pending, not lost") {
  EdgeCluster cluster;
  cluster.register_node(make_node("gpu-1", {"gpu"}));
  cluster.register_node(make_node("plain"));
  CHECK(cluster.deploy_least_loaded(make_function("infer", {"gpu"})) == "gpu-1");
  cluster.drain_node("gpu-1");
  CHECK(cluster.nodes_running("infer").empty());
  CHECK(cluster.health().pending_functions == 1);
  CHECK(cluster.function("infer"));
  cluster.resume_node("gpu-1");
  CHECK(cluster.nodes_running("infer") == std::vector<std::string>{"gpu-1"});
}

TEST_CASE("drain waits for calls in flight on the drained node") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  std::atomic<bool> started{false};
  std::atomic<bool> finished{false};
  EdgeFunction slow = make_function("slow");
  slow.handler = [&](std::string_view) {
    started = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    finished = true;
    return std::string("done");
  };
  cluster.deploy_to_all(slow);
  std::thread caller([&] { CHECK(cluster.invoke("slow") == "done"); });
  while (!started) std::this_thread::yield();
  cluster.drain_node("a");
  CHECK(finished);
  caller.join();
}

TEST_CASE("stale nodes go offline, fail over least-loaded functions, keep deploy_to_all ones") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  cluster.register_node(make_node("b", {}, 30));
  cluster.register_node(make_node("maint"));
  cluster.drain_node("maint");
  cluster.deploy_to_all(make_function("everywhere"));
  CHECK(cluster.deploy_least_loaded(make_function("single")) == "a");
  CHECK_THROWS_AS(cluster.detect_stale_nodes(-1), std::invalid_argument);
  CHECK_THROWS_AS(cluster.detect_stale_nodes(NAN), std::invalid_argument);
  CHECK_THROWS_AS(cluster.detect_stale_nodes(INFINITY), std::invalid_argument);
  CHECK(cluster.detect_stale_nodes(60).empty());

  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  cluster.heartbeat("b");
  CHECK(cluster.detect_stale_nodes(0.02) == std::vector<std::string>{"a"});  // maintenance excluded
  CHECK(cluster.node("a")->status == EdgeNodeStatus::Offline);
  CHECK(cluster.nodes_running("single") == std::vector<std::string>{"b"});
  CHECK(cluster.runtime("a")->has_function("everywhere"));
  CHECK(cluster.invoke_routed("everywhere").node_id == "b");  // never routed to an offline node
  CHECK(cluster.detect_stale_nodes(0.02) == std::vector<std::string>{"a"});  // still stale
}

TEST_CASE(
    "invoke routes to the least-loaded healthy node, then degraded, never offline or maintenance") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a", {}, 50));
  cluster.register_node(make_node("b", {}, 20));
  cluster.deploy_to_all(make_function("f"));
  CHECK_THROWS_AS(cluster.invoke("nope"), std::invalid_argument);
  CHECK(cluster.invoke_routed("f", "x").node_id == "b");
  cluster.heartbeat("b", usage(95));  // degraded
  CHECK(cluster.invoke_routed("f").node_id == "a");
  cluster.heartbeat("a", usage(99));  // both degraded: the lower score
  CHECK(cluster.invoke_routed("f").node_id == "b");
  cluster.drain_node("b");
  CHECK(cluster.invoke_routed("f").node_id == "a");
  cluster.drain_node("a");
  CHECK_THROWS_AS(cluster.invoke("f"), EdgeExecutionError);
  const EdgeCluster::RoutedCall call = [&] {
    cluster.resume_node("a");
    return cluster.invoke_routed("f", "payload");
  }();
  CHECK(call.result.output == "payload");
  CHECK(call.result.cold_start);
}

TEST_CASE("health counts and status") {
  EdgeCluster cluster;
  CHECK(cluster.health().status == "empty");
  cluster.register_node(make_node("a"));
  cluster.register_node(make_node("b"));
  cluster.deploy_to_all(make_function("f"));
  cluster.invoke("f");
  ClusterHealth health = cluster.health();
  CHECK(health.status == "healthy");
  CHECK(health.total_nodes == 2);
  CHECK(health.online == 2);
  CHECK(health.healthy_nodes == 2);
  CHECK(health.total_functions == 2);
  CHECK(health.total_invocations == 1);
  CHECK(health.cold_starts == 1);

  cluster.heartbeat("a", usage(95, 512));
  health = cluster.health();
  CHECK(health.status == "degraded");  // half healthy
  CHECK(health.degraded == 1);
  CHECK(health.overloaded_nodes == 1);
  CHECK(health.avg_cpu_percent == doctest::Approx(47.5));
  CHECK(health.avg_memory_percent == doctest::Approx(25));
  cluster.register_node(make_node("c"));
  cluster.drain_node("c");
  cluster.drain_node("b");
  health = cluster.health();
  CHECK(health.status == "critical");
  CHECK(health.maintenance == 2);
  CHECK(health.online + health.offline + health.degraded + health.syncing + health.maintenance ==
        health.total_nodes);
  const nlohmann::json json = health.to_json();
  CHECK(json["status"] == "critical");
  CHECK(json["pending_functions"] == 0);
}

TEST_CASE("plugin functions run through the cluster") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  EdgeFunction echo{"echo", "echo"};
  echo.plugin = edge::test::plugin("echo");
  CHECK(cluster.deploy_to_all(echo) == 1);
  CHECK(cluster.invoke("echo", "hi") == "hi");
  CHECK(cluster.remove_function("echo"));
  CHECK_FALSE(cluster.remove_function("echo"));
  CHECK_THROWS_AS(cluster.invoke("echo"), std::invalid_argument);
}

TEST_CASE("calls keep succeeding while functions move, nodes drain and heartbeat concurrently") {
  EdgeCluster cluster;
  for (int i = 0; i < 4; ++i) cluster.register_node(make_node("n" + std::to_string(i)));
  cluster.deploy_to_all(make_function("all"));
  cluster.deploy_least_loaded(make_function("one"));
  std::atomic<bool> stop{false};
  std::atomic<long> failures{0};
  std::atomic<long> calls{0};
  std::mutex first_failure_mutex;
  std::string first_failure;
  std::vector<std::thread> callers;
  callers.reserve(2);
  for (int t = 0; t < 2; ++t) {
    callers.emplace_back([&] {
      while (!stop) {
        try {
          if (cluster.invoke("all", "x") != "x") ++failures;
          if (cluster.invoke("one", "y") != "y") ++failures;
          calls += 2;
        } catch (const std::exception& error) {
          std::lock_guard lock(first_failure_mutex);
          if (failures++ == 0) first_failure = error.what();
        }
      }
    });
  }
  std::thread heartbeats([&] {
    while (!stop) {
      for (int i = 0; i < 4; ++i) cluster.heartbeat("n" + std::to_string(i));
    }
  });
  // At least 100 rounds, and long enough for the callers to make many calls.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  for (int round = 0; (round < 100 || calls < 2000) && std::chrono::steady_clock::now() < give_up;
       ++round) {
    const std::string node = "n" + std::to_string(round % 4);
    cluster.drain_node(node);  // others stay up: "all" and "one" always have a node
    cluster.deploy_least_loaded(make_function("one"));
    cluster.resume_node(node);
  }
  stop = true;
  for (auto& caller : callers) caller.join();
  heartbeats.join();
  CHECK_MESSAGE(failures == 0, first_failure);
  CHECK(calls > 0);
  CHECK(cluster.nodes_running("one").size() == 1);
  CHECK(cluster.nodes_running("all").size() == 4);
}

TEST_CASE("a node that registers overloaded is Degraded, and gets no least-loaded placement") {
  EdgeCluster cluster;
  cluster.register_node(make_node("hot", {}, 97));
  CHECK(cluster.node("hot")->status == EdgeNodeStatus::Degraded);
  CHECK_FALSE(cluster.deploy_least_loaded(make_function("f")));
  CHECK(cluster.deploy_to_all(make_function("g")) == 1);  // Degraded still serves deploy_to_all
  cluster.heartbeat("hot", usage(10));
  CHECK(cluster.node("hot")->status == EdgeNodeStatus::Online);
  CHECK(cluster.nodes_running("f") ==
        std::vector<std::string>{"hot"});  // pending placed on recovery
}

TEST_CASE("when several nodes go stale at once, nothing fails over onto one of them") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a", {}, 10));
  cluster.register_node(make_node("b", {}, 20));
  cluster.register_node(make_node("survivor", {}, 80));
  CHECK(cluster.deploy_least_loaded(make_function("f")) == "a");
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  cluster.heartbeat("survivor");
  CHECK(cluster.detect_stale_nodes(0.02) == std::vector<std::string>{"a", "b"});
  CHECK(cluster.nodes_running("f") == std::vector<std::string>{"survivor"});
  CHECK(cluster.runtime("b")->function_count() == 0);
}

TEST_CASE("plan: where a function would go, and why every other node does not qualify") {
  EdgeCluster cluster;
  cluster.register_node(make_node("gpu-1", {"gpu"}, 40));
  cluster.register_node(make_node("gpu-2", {"gpu"}, 10));
  cluster.register_node(make_node("plain"));
  cluster.register_node(make_node("hot", {"gpu"}, 95));
  cluster.register_node(make_node("maint", {"gpu"}));
  cluster.drain_node("maint");
  EdgeNode small = make_node("small", {"gpu"});
  small.resources.memory_max_mb = 64;
  cluster.register_node(small);

  EdgeFunction infer = make_function("infer", {"gpu"});
  infer.memory_mb = 256;
  const PlacementPlan least = cluster.plan(infer, Placement::LeastLoaded);
  CHECK(least.nodes == std::vector<std::string>{"gpu-2"});
  const std::map<std::string, std::string> why(least.rejected.begin(), least.rejected.end());
  CHECK(why.at("plain") == "missing capability 'gpu'");
  CHECK(why.at("hot") == "node is degraded");
  CHECK(why.at("maint") == "node is maintenance");
  CHECK(why.at("small").find("not enough memory") == 0);
  CHECK(why.size() == 4);

  const PlacementPlan all = cluster.plan(infer, Placement::All);
  CHECK(all.nodes == std::vector<std::string>{"gpu-1", "gpu-2", "hot"});  // Degraded serves "all"
  CHECK(cluster.nodes_running("infer").empty());  // a dry run changes nothing
  CHECK(all.to_json()["rejected"]["plain"] == "missing capability 'gpu'");
}

TEST_CASE("wait_for_idle waits for calls in flight, bounded by its timeout") {
  EdgeCluster cluster;
  cluster.register_node(make_node("a"));
  EdgeFunction sleep{"sleep"};
  sleep.plugin = edge::test::plugin("sleep");
  cluster.deploy_to_all(sleep);
  CHECK(cluster.wait_for_idle(std::chrono::milliseconds(0)));
  std::atomic<bool> started{false};
  std::thread call([&] {
    started = true;
    cluster.invoke("sleep", "300");
  });
  while (!started || cluster.in_flight() == 0) std::this_thread::yield();
  CHECK(cluster.in_flight() == 1);
  CHECK_FALSE(cluster.wait_for_idle(std::chrono::milliseconds(20)));
  CHECK(cluster.wait_for_idle(std::chrono::seconds(10)));
  CHECK(cluster.in_flight() == 0);
  call.join();
}
