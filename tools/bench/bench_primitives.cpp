// The building blocks the hot paths are made of, measured alone on this
// machine, so that the figures of the other programs can be explained:
// a clock read, an epoch guard, a locked read-modify-write, a string hash, and
// a lookup in the read-mostly map with small and with node-sized values.
#include "concurrency/epoch.hpp"
#include "concurrency/read_mostly_map.hpp"

#include <benchmark/benchmark.h>

#include <time.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::size_t kKeys = 10'000;

void BM_SteadyClockNow(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(std::chrono::steady_clock::now());
  state.SetItemsProcessed(state.iterations());
}

// Jiffy resolution (a few ms), no TSC read: enough for heartbeat timestamps.
void BM_ClockMonotonicCoarse(benchmark::State& state) {
  timespec now{};
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    benchmark::DoNotOptimize(now);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_EpochGuardEnterLeave(benchmark::State& state) {
  for (auto _ : state) {
    edge::concurrency::EpochGuard guard;
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}

// One thread's counter: a locked add (what FunctionMetrics does per field)
// against a relaxed load and store (enough for a single-writer counter).
void BM_AtomicFetchAddRelaxed(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    counter.fetch_add(1, std::memory_order_relaxed);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(counter.load());
  state.SetItemsProcessed(state.iterations());
}

void BM_AtomicLoadStoreRelaxed(benchmark::State& state) {
  std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    benchmark::ClobberMemory();
  }
  benchmark::DoNotOptimize(counter.load());
  state.SetItemsProcessed(state.iterations());
}

std::vector<std::string> keys() {
  std::vector<std::string> result;
  for (std::size_t i = 0; i < kKeys; ++i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "node-%06zu", i);
    result.emplace_back(buffer);
  }
  return result;
}

void BM_HashNodeId(benchmark::State& state) {
  const std::vector<std::string> ids = keys();
  std::size_t next = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(std::hash<std::string_view>{}(ids[next]));
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

// ReadMostlyMap::find cycling through 10,000 keys. Value size 8 bytes, or
// the size of EdgeCluster's NodeEntry (264: a 168-byte EdgeNode plus bookkeeping),
// interleaved with other allocations as in the cluster (each node also owns
// a runtime): shows what the lookup costs once the entries leave the cache.
template <std::size_t ValueBytes, std::size_t NeighbourBytes>
void BM_ReadMostlyMapFind(benchmark::State& state) {
  struct Value {
    std::array<unsigned char, ValueBytes> bytes{};
  };
  edge::concurrency::ReadMostlyMap<Value> map;
  std::vector<std::unique_ptr<std::array<unsigned char, NeighbourBytes + 1>>> neighbours;
  const std::vector<std::string> ids = keys();
  for (const std::string& id : ids) {
    map.insert_or_replace(id);
    if (NeighbourBytes != 0) {
      neighbours.push_back(std::make_unique<std::array<unsigned char, NeighbourBytes + 1>>());
    }
  }
  edge::concurrency::EpochDomain::global().synchronize();
  std::size_t next = 0;
  for (auto _ : state) {
    edge::concurrency::EpochGuard guard;
    Value* value = map.find(ids[next]);
    benchmark::DoNotOptimize(value->bytes[0]);
    if (++next == ids.size()) next = 0;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_SteadyClockNow);
BENCHMARK(BM_ClockMonotonicCoarse);
BENCHMARK(BM_EpochGuardEnterLeave);
BENCHMARK(BM_AtomicFetchAddRelaxed);
BENCHMARK(BM_AtomicLoadStoreRelaxed);
BENCHMARK(BM_HashNodeId);
BENCHMARK(BM_ReadMostlyMapFind<8, 0>)->Name("BM_ReadMostlyMapFind/value_bytes:8");
BENCHMARK(BM_ReadMostlyMapFind<264, 600>)
    ->Name("BM_ReadMostlyMapFind/value_bytes:264+neighbour:600");

BENCHMARK_MAIN();
