// The /metrics page for a large cluster: render_prometheus over 100 nodes
// running 10 functions each (every function called, so every histogram has
// data), against the floor any renderer pays: reading every runtime's
// summary (the counters and histograms) without writing any text.
#include "bench_support.hpp"
#include "metrics/prometheus.hpp"

#include <edge/cluster.hpp>

#include <benchmark/benchmark.h>

#include <string>

namespace {

constexpr int kNodes = 100;
constexpr int kFunctionsPerNode = 10;

edge::EdgeCluster& big_cluster() {
  static edge::EdgeCluster* cluster = [] {
    auto* built = new edge::EdgeCluster;  // lives for the program: plugins stay loaded
    for (int node = 0; node < kNodes; ++node)
      built->register_node(edge::bench::bench_node("node-" + std::to_string(node)));
    for (int function = 0; function < kFunctionsPerNode; ++function) {
      built->deploy_to_all(edge::bench::echo_function("function-" + std::to_string(function)));
    }
    for (int node = 0; node < kNodes; ++node) {
      edge::EdgeRuntime* runtime = built->runtime("node-" + std::to_string(node));
      for (int function = 0; function < kFunctionsPerNode; ++function) {
        for (int call = 0; call < 10; ++call)
          runtime->invoke("function-" + std::to_string(function), edge::bench::kSmallInput);
      }
    }
    return built;
  }();
  return *cluster;
}

void BM_RenderPrometheus_100Nodes10Functions(benchmark::State& state) {
  edge::EdgeCluster& cluster = big_cluster();
  std::size_t bytes = 0;
  for (auto _ : state) {
    std::string page = edge::metrics::render_prometheus(cluster);
    bytes = page.size();
    benchmark::DoNotOptimize(page);
  }
  state.counters["page_bytes"] = static_cast<double>(bytes);
}

void BM_ReadSummaries_100Nodes10Functions(benchmark::State& state) {
  edge::EdgeCluster& cluster = big_cluster();
  for (auto _ : state) {
    for (const edge::EdgeNode& node : cluster.nodes()) {
      edge::RuntimeSummary summary = cluster.runtime(node.id)->summary();
      benchmark::DoNotOptimize(summary);
    }
  }
}

}  // namespace

BENCHMARK(BM_RenderPrometheus_100Nodes10Functions)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ReadSummaries_100Nodes10Functions)->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
