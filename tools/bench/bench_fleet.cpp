// The cluster over NATS end to end, through a real nats-server started by
// this program (the tests' NatsServerProcess), a real Controller and
// EdgeCluster, and simulated nodes (tools/fleet_load) or a real NodeAgent:
//
//   BM_Fleet_HeartbeatIngest   heartbeats of 1,000 simulated nodes (two
//                              batching connections) ingested by the
//                              controller: decoded, checked for order and
//                              inventory changes, recorded in its EdgeCluster
//                              (issue 6's target: >= 50,000/s). Beside it,
//                              BM_Fleet_HeartbeatCountOnly: the same traffic
//                              to a subscriber that only counts (the transport).
//   BM_Fleet_StaleDetection    1,000 nodes heartbeat every 0.5 s; 10 stop.
//                              Time from their last heartbeat until the
//                              controller's view has them Offline, with stale
//                              detection every timeout/4 as edge-host runs it
//                              (target: within timeout + 1 s; timeout 2 s).
//   BM_Fleet_RemoteInvoke      echo (16 bytes) through the controller's
//                              EdgeCluster to a real NodeAgent serving a real
//                              plugin over NATS request/reply (target: p50
//                              <= 300 µs). Beside it, BM_Fleet_LocalInvoke:
//                              the node's own EdgeCluster calling echo.
#include "fleet/controller.hpp"
#include "fleet/node_agent.hpp"
#include "log/logger.hpp"
#include "nats/nats_client.hpp"
#include "simulated_fleet.hpp"

#include <edge/cluster.hpp>

#include "percentile.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nats_bench_support.hpp"
#include "quiet_logger.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const edge::log::Logger& quiet_logger() {
  static const edge::test::QuietLogger quiet;
  return quiet.logger;
}

// Waits for `condition` up to `limit`; false on the deadline.
template <typename Condition>
bool wait_for(Condition condition, std::chrono::milliseconds limit) {
  const auto end = Clock::now() + limit;
  while (!condition()) {
    if (Clock::now() >= end) return false;
    std::this_thread::sleep_for(200us);
  }
  return true;
}

// A controller over its own EdgeCluster, in cluster `name`.
struct ControllerUnderTest {
  explicit ControllerUnderTest(const std::string& name, double timeout_seconds,
                               std::vector<edge::FunctionSpec> functions = {})
      : client(edge::bench::client_options("bench controller")), subjects(name) {
    edge::fleet::ControllerOptions options;
    options.heartbeat_timeout_seconds = timeout_seconds;
    options.functions = std::move(functions);
    controller = std::make_unique<edge::fleet::Controller>(client, subjects, cluster,
                                                           quiet_logger(), options);
    controller->start();
  }
  edge::EdgeCluster cluster;
  edge::nats::NatsClient client;
  edge::fleet::Subjects subjects;
  std::unique_ptr<edge::fleet::Controller> controller;
};

constexpr int kNodes = 1000;
constexpr int kRoundsPerIteration = 20;  // 20,000 heartbeats per measured iteration

void BM_Fleet_HeartbeatIngest(benchmark::State& state) {
  ControllerUnderTest under_test("ingest", 3600);
  edge::fleet_load::SimulatedFleet fleet(
      {edge::bench::nats_server().url(), "ingest", kNodes, "sim-", 2});
  fleet.beat();
  fleet.flush();
  if (!wait_for([&] { return under_test.controller->counters().registrations == kNodes; }, 60s)) {
    state.SkipWithError("the simulated nodes did not all register within 60 s");
    return;
  }
  std::uint64_t total = 0;
  for (auto _ : state) {
    const std::uint64_t before = under_test.controller->counters().heartbeats;
    const auto start = Clock::now();
    std::uint64_t sent = 0;
    for (int round = 0; round < kRoundsPerIteration; ++round) sent += fleet.beat();
    fleet.flush();
    if (!wait_for([&] { return under_test.controller->counters().heartbeats >= before + sent; },
                  30s)) {
      state.SkipWithError("heartbeats were lost");
      return;
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    total += sent;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
  state.counters["nodes"] = static_cast<double>(under_test.cluster.nodes().size());
}

void BM_Fleet_HeartbeatCountOnly(benchmark::State& state) {
  edge::nats::NatsClient client(edge::bench::client_options("bench counter"));
  const edge::fleet::Subjects subjects("countonly");
  std::atomic<std::uint64_t> received{0};
  edge::nats::Subscription subscription =
      client.subscribe(subjects.every_heartbeat(), [&](const edge::nats::Message&) { ++received; });
  client.flush(5s);
  edge::fleet_load::SimulatedFleet fleet(
      {edge::bench::nats_server().url(), "countonly", kNodes, "sim-", 2});
  std::uint64_t total = 0;
  for (auto _ : state) {
    const std::uint64_t before = received.load();
    const auto start = Clock::now();
    std::uint64_t sent = 0;
    for (int round = 0; round < kRoundsPerIteration; ++round) sent += fleet.beat();
    fleet.flush();
    if (!wait_for([&] { return received.load() >= before + sent; }, 30s)) {
      state.SkipWithError("heartbeats were lost");
      return;
    }
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - start).count());
    total += sent;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(total));
}

void BM_Fleet_StaleDetection(benchmark::State& state) {
  constexpr double kTimeout = 2.0;
  constexpr int kSilenced = 10;
  std::vector<double> detections;
  for (auto _ : state) {
    const std::string name = "stale" + std::to_string(detections.size());
    ControllerUnderTest under_test(name, kTimeout);
    edge::fleet_load::SimulatedFleet fleet(
        {edge::bench::nats_server().url(), name, kNodes, "sim-", 2});
    fleet.beat();
    fleet.flush();
    if (!wait_for([&] { return under_test.controller->counters().registrations == kNodes; }, 60s)) {
      state.SkipWithError("the simulated nodes did not all register within 60 s");
      return;
    }
    // What edge-host's NodeSupervisor does: detection every timeout / 4.
    std::atomic<bool> stop{false};
    std::thread detector([&] {
      while (!stop.load()) {
        under_test.cluster.detect_stale_nodes(kTimeout);
        std::this_thread::sleep_for(std::chrono::duration<double>(kTimeout / 4));
      }
    });
    // Two intervals with everybody, then the silenced nodes stop.
    fleet.beat();
    fleet.flush();
    const auto last_heartbeat = Clock::now();
    const auto silenced_offline = [&] {
      for (int index = 0; index < kSilenced; ++index) {
        const auto node =
            under_test.cluster.node(fleet.node_ids()[static_cast<std::size_t>(index)]);
        if (!node || node->status != edge::EdgeNodeStatus::Offline) return false;
      }
      return true;
    };
    auto next_round = last_heartbeat + 500ms;
    while (!silenced_offline() && Clock::now() < last_heartbeat + 10s) {
      if (Clock::now() >= next_round) {
        fleet.beat([](std::size_t index) { return index >= static_cast<std::size_t>(kSilenced); });
        fleet.flush();
        next_round += 500ms;
      }
      std::this_thread::sleep_for(1ms);
    }
    const double detected = std::chrono::duration<double>(Clock::now() - last_heartbeat).count();
    stop = true;
    detector.join();
    state.SetIterationTime(detected);
    detections.push_back(detected);
    std::size_t offline = 0;
    for (const edge::EdgeNode& node : under_test.cluster.nodes())
      offline += node.status == edge::EdgeNodeStatus::Offline ? 1 : 0;
    state.counters["offline_nodes"] = static_cast<double>(offline);  // exactly the silenced ones
  }
  state.counters["timeout_s"] = kTimeout;
  state.counters["detect_p50_s"] = edge::bench::percentile(detections, 0.5);
  state.counters["detect_max_s"] = edge::bench::percentile(detections, 1.0);
}

// A node host in this process: its own EdgeCluster with node "n1" and an
// agent serving it over NATS, and a controller that places echo on it.
struct RemoteEcho {
  RemoteEcho()
      : artifacts(std::filesystem::temp_directory_path() /
                  ("edge-bench-fleet-" + std::to_string(::getpid()))),
        node_client(edge::bench::client_options("bench node")) {
    edge::EdgeNode node("n1");
    node.max_functions = 10;
    node_cluster.register_node(node);
    edge::fleet::NodeAgentOptions agent_options;
    agent_options.node_ids = {"n1"};
    agent_options.artifact_dir = artifacts;
    agent_options.heartbeat_interval = 200ms;
    agent = std::make_unique<edge::fleet::NodeAgent>(node_client, subjects, node_cluster,
                                                     agent_options);
    agent->start();
    edge::FunctionSpec echo;
    echo.function = edge::EdgeFunction("echo");
    echo.function.plugin = std::string(EDGE_BENCH_PLUGIN_DIR) + "/echo.so";
    echo.placement = edge::Placement::LeastLoaded;
    controller = std::make_unique<ControllerUnderTest>("invoke", 5, std::vector{echo});
    ready = wait_for(
        [&] {
          try {
            return controller->cluster.invoke("echo", "ping") == "ping";
          } catch (const std::exception&) {
            return false;
          }
        },
        30s);
  }
  ~RemoteEcho() {
    controller.reset();
    agent.reset();
    std::error_code ignored;
    std::filesystem::remove_all(artifacts, ignored);
  }
  const std::filesystem::path artifacts;
  const edge::fleet::Subjects subjects{"invoke"};
  edge::EdgeCluster node_cluster;
  edge::nats::NatsClient node_client;
  std::unique_ptr<edge::fleet::NodeAgent> agent;
  std::unique_ptr<ControllerUnderTest> controller;
  bool ready = false;
};

void invoke_benchmark(benchmark::State& state, bool remote) {
  RemoteEcho fixture;
  if (!fixture.ready) {
    state.SkipWithError("echo did not become callable through the controller within 30 s");
    return;
  }
  edge::EdgeCluster& cluster = remote ? fixture.controller->cluster : fixture.node_cluster;
  const std::string input(16, 'x');
  std::vector<double> latencies_us;
  for (auto _ : state) {
    const auto start = Clock::now();
    benchmark::DoNotOptimize(cluster.invoke("echo", input));
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    state.SetIterationTime(seconds);
    latencies_us.push_back(seconds * 1e6);
  }
  state.counters["p50_us"] = edge::bench::percentile(latencies_us, 0.50);
  state.counters["p99_us"] = edge::bench::percentile(latencies_us, 0.99);
  state.SetItemsProcessed(state.iterations());
}

void BM_Fleet_RemoteInvoke(benchmark::State& state) { invoke_benchmark(state, true); }
void BM_Fleet_LocalInvoke(benchmark::State& state) { invoke_benchmark(state, false); }

}  // namespace

BENCHMARK(BM_Fleet_HeartbeatIngest)->UseManualTime()->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fleet_HeartbeatCountOnly)
    ->UseManualTime()
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Fleet_StaleDetection)->UseManualTime()->Iterations(3)->Unit(benchmark::kSecond);
BENCHMARK(BM_Fleet_RemoteInvoke)->UseManualTime()->Iterations(20000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Fleet_LocalInvoke)->UseManualTime()->Iterations(20000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
