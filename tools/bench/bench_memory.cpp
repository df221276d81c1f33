// Memory per registered idle node: the heap (mallinfo2) and resident set
// (/proc/self/statm) before and after registering 100,000 nodes, each with an
// id, a name, a location and 2 capabilities, no functions.
//
// Baseline beside it: the same 100,000 EdgeNode values in a std::vector, i.e.
// what the node records themselves cost before any cluster bookkeeping.
#include <edge/cluster.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr std::size_t kNodes = 100'000;

// Bytes allocated by malloc and still in use: arena chunks plus mmapped ones.
double heap_in_use() {
  const struct mallinfo2 info = mallinfo2();
  return static_cast<double>(info.uordblks + info.hblkhd);
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  std::size_t size_pages = 0;
  std::size_t resident_pages = 0;
  statm >> size_pages >> resident_pages;
  return static_cast<double>(resident_pages) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

edge::EdgeNode idle_node(std::size_t index) {
  char id[32];
  std::snprintf(id, sizeof id, "node-%06zu", index);
  edge::EdgeNode node;
  node.id = id;
  node.name = "Edge node " + std::to_string(index);
  node.location = index % 2 == 0 ? "eu-west-1" : "us-east-1";
  node.capabilities = {"gpio", "camera"};
  return node;
}

// Runs `build` (which must return an owner of what it allocated) once per
// iteration and reports heap and RSS growth per node while the result lives.
template <class Build>
void measure_per_node(benchmark::State& state, Build build) {
  double heap_growth = 0;
  double rss_growth = 0;
  for (auto _ : state) {
    state.PauseTiming();
    malloc_trim(0);  // return what earlier runs freed, so RSS growth is this run's
    const double heap_before = heap_in_use();
    const double rss_before = resident_bytes();
    state.ResumeTiming();
    auto owner = build();
    state.PauseTiming();
    heap_growth += heap_in_use() - heap_before;
    rss_growth += resident_bytes() - rss_before;
    owner.reset();  // untimed teardown
    state.ResumeTiming();
  }
  const double runs = static_cast<double>(state.iterations());
  state.counters["heap_bytes_per_node"] = heap_growth / runs / kNodes;
  state.counters["rss_bytes_per_node"] = rss_growth / runs / kNodes;
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(kNodes));
}

// The time reported is registering 100,000 nodes.
void BM_MemoryPerIdleNode_Cluster(benchmark::State& state) {
  measure_per_node(state, [] {
    auto cluster = std::make_unique<edge::EdgeCluster>();
    for (std::size_t i = 0; i < kNodes; ++i) cluster->register_node(idle_node(i));
    return cluster;
  });
}

void BM_MemoryPerIdleNode_VectorOfEdgeNode(benchmark::State& state) {
  measure_per_node(state, [] {
    auto nodes = std::make_unique<std::vector<edge::EdgeNode>>();
    nodes->reserve(kNodes);
    for (std::size_t i = 0; i < kNodes; ++i) nodes->push_back(idle_node(i));
    return nodes;
  });
}

}  // namespace

BENCHMARK(BM_MemoryPerIdleNode_Cluster)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_MemoryPerIdleNode_VectorOfEdgeNode)->Iterations(1)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
