// Shared by the cold-start benchmarks (bench_cold_start, and bench_sandbox's
// in-process baseline): timing helpers, and the in-process first invoke of
// echo with its library really unloaded between iterations.
#pragma once

#include "bench_support.hpp"

#include <edge/runtime.hpp>

#include "concurrency/epoch.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <fstream>
#include <string>

namespace edge::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Whether `file` is mapped into this process (/proc/self/maps).
inline bool is_mapped(const std::string& file) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  while (std::getline(maps, line)) {
    if (line.size() >= file.size() &&
        line.compare(line.size() - file.size(), file.size(), file) == 0) {
      return true;
    }
  }
  return false;
}

// Undeploys the function and waits until its version (and library) is gone.
// Fails the benchmark when the library is still mapped afterwards. The first
// time, also checks that it was mapped before, so the check cannot pass
// vacuously (e.g. if the path in /proc/self/maps were spelled differently).
inline bool unload(benchmark::State& state, EdgeRuntime& runtime, const std::string& file) {
  static bool checked_positive = false;
  if (!checked_positive) {
    if (!is_mapped(file)) {
      state.SkipWithError("echo.so is not in /proc/self/maps while loaded: cannot check unloading");
      return false;
    }
    checked_positive = true;
  }
  runtime.undeploy("echo");
  concurrency::EpochDomain::global().synchronize();
  if (is_mapped(file)) {
    state.SkipWithError(
        "echo.so is still mapped after undeploy: the cold start would not reload it");
    return false;
  }
  return true;
}

// Timed: only the cold invoke of echo in this process (dlopen, the
// descriptor checks, init, the call); the deploy happens untimed before it.
inline void first_invoke_only(benchmark::State& state) {
  EdgeRuntime runtime(bench_node("bench-node"));
  const EdgeFunction function = echo_function("echo");
  const std::string file = function.plugin.string();
  for (auto _ : state) {
    runtime.deploy(function);
    const Clock::time_point start = Clock::now();
    const EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
    state.SetIterationTime(seconds_between(start, Clock::now()));
    if (!result.cold_start || result.output != kSmallInput) {
      state.SkipWithError("the first invoke was not a cold start returning the input");
      break;
    }
    if (!unload(state, runtime, file)) break;
  }
  state.SetItemsProcessed(state.iterations());
}

}  // namespace edge::bench
