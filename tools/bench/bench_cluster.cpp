// EdgeCluster's control plane at scale, each beside the obvious
// implementation a reader would write first:
//   - deploy_least_loaded over 10,000 nodes vs a linear scan scoring every node;
//   - heartbeat(id) over 10,000 nodes vs a mutex-guarded unordered_map update;
//   - detect_stale_nodes over 100,000 nodes (none stale) vs a loop over a
//     std::vector<EdgeNode> comparing last_heartbeat.
#include "bench_support.hpp"

#include <edge/cluster.hpp>

#include "cluster/placement.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kPlacementNodes = 10'000;
constexpr std::size_t kStaleScanNodes = 100'000;

std::string node_id(std::size_t index) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "node-%06zu", index);
  return buffer;
}

// Deterministic, varied nodes: 0-3 capabilities out of 6, memory 256 MB-4 GB,
// CPU 0-95 % (about 5 % overloaded), 10-100 function slots, 1 % offline and
// 1 % in maintenance.
std::vector<edge::EdgeNode> make_nodes(std::size_t count) {
  static constexpr std::array<const char*, 6> kCapabilities = {"gpio",    "camera", "gpu",
                                                               "storage", "5g",     "tpu"};
  static constexpr std::array<const char*, 8> kLocations = {
      "eu-west-1",  "eu-central-1",   "us-east-1", "us-west-2",
      "ap-south-1", "ap-northeast-1", "sa-east-1", "af-south-1"};
  static constexpr std::array<double, 5> kMemoryMax = {256, 512, 1024, 2048, 4096};
  static constexpr std::array<int, 4> kSlots = {10, 20, 50, 100};
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<edge::EdgeNode> nodes;
  nodes.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    edge::EdgeNode node;
    node.id = node_id(i);
    node.name = "Edge node " + std::to_string(i);
    node.location = kLocations[random() % kLocations.size()];
    const std::size_t capability_count = random() % 4;
    const std::size_t first = random() % kCapabilities.size();
    for (std::size_t c = 0; c < capability_count; ++c) {
      node.capabilities.emplace_back(kCapabilities[(first + c) % kCapabilities.size()]);
    }
    node.resources.memory_max_mb = kMemoryMax[random() % kMemoryMax.size()];
    node.resources.memory_mb = node.resources.memory_max_mb * 0.9 * unit(random);
    node.resources.cpu_percent = 95.0 * unit(random);
    node.max_functions = kSlots[random() % kSlots.size()];
    const double status = unit(random);
    if (status < 0.01) {
      node.status = edge::EdgeNodeStatus::Offline;
    } else if (status < 0.02) {
      node.status = edge::EdgeNodeStatus::Maintenance;
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

std::unique_ptr<edge::EdgeCluster> make_cluster(const std::vector<edge::EdgeNode>& nodes) {
  auto cluster = std::make_unique<edge::EdgeCluster>();
  for (const edge::EdgeNode& node : nodes) cluster->register_node(node);
  return cluster;
}

const std::vector<edge::EdgeNode>& placement_nodes() {
  static const std::vector<edge::EdgeNode> nodes = make_nodes(kPlacementNodes);
  return nodes;
}

// Shared by the redeploy and heartbeat benchmarks (neither changes what the
// other measures).
edge::EdgeCluster& placement_cluster() {
  static const std::unique_ptr<edge::EdgeCluster> cluster = make_cluster(placement_nodes());
  return *cluster;
}

edge::EdgeFunction placed_function(std::string id, bool needs_gpu) {
  edge::EdgeFunction function = edge::bench::native_echo_function(std::move(id));
  function.memory_mb = 128;
  if (needs_gpu) function.required_capabilities = {"gpu"};
  return function;
}

// ---- deploy_least_loaded ---------------------------------------------------

// Redeploys one function id: each call re-places it (the node running it
// competes with its own load minus that function) and replaces its version.
void BM_DeployLeastLoaded_Redeploy(benchmark::State& state) {
  edge::EdgeCluster& cluster = placement_cluster();
  const edge::EdgeFunction function =
      placed_function(state.range(0) ? "placed-gpu" : "placed", state.range(0) != 0);
  std::optional<std::string> previous;
  std::int64_t moves = 0;
  for (auto _ : state) {
    std::optional<std::string> node = cluster.deploy_least_loaded(function);
    benchmark::DoNotOptimize(node);
    if (!node) [[unlikely]] {
      state.SkipWithError("no node took the function");
      break;
    }
    if (node != previous) {
      ++moves;
      previous = std::move(node);
    }
  }
  state.SetItemsProcessed(state.iterations());
  // How often a call moved the function to another node (the first placement
  // of a run counts as one).
  state.counters["moved_fraction"] =
      benchmark::Counter(static_cast<double>(moves), benchmark::Counter::kAvgIterations);
}

// A new function id every call, on a fresh cluster per run: the cluster fills
// up as the run goes, like a real rollout. A fixed 100,000 calls per run (10
// functions per node on average) keeps every run well below the cluster's
// capacity (about 420,000 slots on the healthy nodes), so no call finds the
// cluster full and every run measures the same rollout.
void BM_DeployLeastLoaded_DistinctIds(benchmark::State& state) {
  const std::unique_ptr<edge::EdgeCluster> cluster = make_cluster(placement_nodes());
  edge::EdgeFunction function = placed_function("", false);
  std::size_t next = 0;
  for (auto _ : state) {
    function.id = "fn-" + std::to_string(next++);
    std::optional<std::string> node = cluster->deploy_least_loaded(function);
    benchmark::DoNotOptimize(node);
    if (!node) [[unlikely]] {
      state.SkipWithError("no node took the function");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["functions_placed"] = static_cast<double>(next);
}

// The obvious implementation: check every node against the same rules as
// least_loaded_rejection (Online, not overloaded, capabilities, memory, room),
// as plain booleans, score it with the library's load_score, and keep the
// least loaded by (score, function count, id). Its "deploy" is a counter
// update, so this measures choosing alone, not the deployment work the
// cluster also does.
struct NaiveNode {
  edge::EdgeNode node;
  std::size_t function_count = 0;
};

bool naive_can_take(const NaiveNode& candidate, const edge::EdgeFunction& function, bool runs) {
  const edge::EdgeNode& node = candidate.node;
  if (node.status != edge::EdgeNodeStatus::Online || node.resources.is_overloaded()) return false;
  for (const std::string& capability : function.required_capabilities) {
    if (!node.has_capability(capability)) return false;
  }
  if (function.memory_mb > node.resources.memory_max_mb) return false;
  return runs ||
         candidate.function_count < static_cast<std::size_t>(std::max(node.max_functions, 0));
}

std::size_t naive_choose(const std::vector<NaiveNode>& nodes, const edge::EdgeFunction& function,
                         std::size_t holder) {
  std::size_t best = nodes.size();
  double best_score = 0;
  std::size_t best_count = 0;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    const NaiveNode& candidate = nodes[i];
    const bool runs = i == holder;
    if (!naive_can_take(candidate, function, runs)) continue;
    const std::size_t count = candidate.function_count - (runs ? 1 : 0);
    const double score =
        edge::load_score(candidate.node.resources, count, candidate.node.max_functions);
    if (best == nodes.size() || score < best_score ||
        (score == best_score &&
         (count < best_count ||
          (count == best_count && candidate.node.id < nodes[best].node.id)))) {
      best = i;
      best_score = score;
      best_count = count;
    }
  }
  return best;
}

void BM_DeployLeastLoaded_NaiveScan(benchmark::State& state) {
  std::vector<NaiveNode> nodes;
  for (const edge::EdgeNode& node : placement_nodes()) nodes.push_back({node, 0});
  const edge::EdgeFunction function = placed_function("placed", state.range(0) != 0);
  std::size_t holder = nodes.size();
  for (auto _ : state) {
    const std::size_t chosen = naive_choose(nodes, function, holder);
    if (chosen == nodes.size()) [[unlikely]] {
      state.SkipWithError("no node took the function");
      break;
    }
    if (chosen != holder) {
      if (holder != nodes.size()) --nodes[holder].function_count;
      ++nodes[chosen].function_count;
      holder = chosen;
    }
    benchmark::DoNotOptimize(holder);
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- heartbeat ---------------------------------------------------------------

void BM_Heartbeat(benchmark::State& state) {
  edge::EdgeCluster& cluster = placement_cluster();
  std::vector<std::string> ids;
  for (const edge::EdgeNode& node : placement_nodes()) ids.push_back(node.id);
  // Each thread starts at its own offset so that threads hit different nodes.
  std::size_t next = static_cast<std::size_t>(state.thread_index()) * ids.size() / 2;
  for (auto _ : state) {
    cluster.heartbeat(ids[next]);
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

struct NaiveHeartbeats {
  NaiveHeartbeats() {
    for (const edge::EdgeNode& node : placement_nodes()) last_seen.emplace(node.id, Clock::now());
  }
  std::mutex mutex;
  std::unordered_map<std::string, Clock::time_point> last_seen;  // guarded by mutex
};

// The obvious implementation: one map of last-heartbeat times under a mutex.
void BM_Heartbeat_NaiveMutexMap(benchmark::State& state) {
  static NaiveHeartbeats table;
  std::vector<std::string> ids;
  for (const edge::EdgeNode& node : placement_nodes()) ids.push_back(node.id);
  std::size_t next = static_cast<std::size_t>(state.thread_index()) * ids.size() / 2;
  for (auto _ : state) {
    {
      std::lock_guard lock(table.mutex);
      const auto found = table.last_seen.find(ids[next]);
      if (found == table.last_seen.end()) [[unlikely]] {
        state.SkipWithError("unknown node");
        break;
      }
      found->second = Clock::now();
    }
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// ---- detect_stale_nodes ------------------------------------------------------

// Large timeout: every node is fresh, so this is the scan alone (the common
// case of a periodic check).
void BM_DetectStaleNodes_NoneStale(benchmark::State& state) {
  static const std::unique_ptr<edge::EdgeCluster> cluster =
      make_cluster(make_nodes(kStaleScanNodes));
  for (auto _ : state) {
    std::vector<std::string> stale = cluster->detect_stale_nodes(3600.0);
    benchmark::DoNotOptimize(stale);
    if (!stale.empty()) [[unlikely]] {
      state.SkipWithError("a node was stale");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kStaleScanNodes));
}

// The obvious implementation: a loop over the node records.
void BM_DetectStaleNodes_NaiveVector(benchmark::State& state) {
  static const std::vector<edge::EdgeNode> nodes = make_nodes(kStaleScanNodes);
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(3600.0));
  for (auto _ : state) {
    const Clock::time_point cutoff = Clock::now() - timeout;
    std::vector<std::string> stale;
    for (const edge::EdgeNode& node : nodes) {
      if (node.status != edge::EdgeNodeStatus::Maintenance && node.last_heartbeat < cutoff) {
        stale.push_back(node.id);
      }
    }
    benchmark::DoNotOptimize(stale);
    if (!stale.empty()) [[unlikely]] {
      state.SkipWithError("a node was stale");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kStaleScanNodes));
}

}  // namespace

// Arg: 0 = no capability required, 1 = requires "gpu" (held by ~1/3 of nodes).
BENCHMARK(BM_DeployLeastLoaded_Redeploy)
    ->ArgName("needs_gpu")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DeployLeastLoaded_DistinctIds)->Iterations(100'000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DeployLeastLoaded_NaiveScan)
    ->ArgName("needs_gpu")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Heartbeat)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Heartbeat_NaiveMutexMap)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DetectStaleNodes_NoneStale)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DetectStaleNodes_NaiveVector)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
