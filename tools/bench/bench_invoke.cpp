// Warm invocation: EdgeRuntime::invoke of the echo plugin against the same
// plugin called directly through its descriptor's invoke pointer, and the
// runtime's scaling from one to two threads calling the same function.
//
// The difference BM_RuntimeInvoke_EchoPlugin - BM_DirectCall_EchoPlugin is the
// runtime's overhead per call (lookup, epoch guard, clock reads, metrics).
#include "bench_support.hpp"

#include <edge/cluster.hpp>
#include <edge/runtime.hpp>

#include "plugin/host_api.hpp"
#include "plugin/loaded_plugin.hpp"

#include <benchmark/benchmark.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>

namespace {

using edge::bench::kSmallInput;
using Clock = std::chrono::steady_clock;
using Environment = std::map<std::string, std::string, std::less<>>;

// The echo plugin loaded by the same loader the runtime uses, for the direct
// baseline. Shared by every thread of a benchmark; the plugin is thread-safe
// (not EDGE_PLUGIN_SERIAL).
struct DirectPlugin {
  DirectPlugin()
      : plugin(edge::LoadedPlugin::load(
            edge::bench::plugin_path("echo"),
            {"echo", &environment, Clock::now() + std::chrono::seconds(1), {}})),
        descriptor(plugin->descriptor()),
        instance(plugin->instance()) {}

  // What the runtime's run_plugin does around the hook, and nothing else:
  // build the per-call state, call invoke, move the output out.
  std::string call(std::string_view input, Clock::time_point deadline) const {
    edge_call call;
    call.function_id = "echo";
    call.environment = &environment;
    call.deadline = deadline;
    const edge_result result =
        descriptor.invoke(instance, &edge::host_api(), &call,
                          reinterpret_cast<const uint8_t*>(input.data()), input.size());
    if (result != EDGE_OK) [[unlikely]] {
      throw std::runtime_error("echo failed");
    }
    return std::move(call.output);
  }

  const Environment environment;
  const std::unique_ptr<edge::LoadedPlugin> plugin;
  const edge_plugin_descriptor& descriptor;
  void* const instance;
};

DirectPlugin& direct_plugin() {
  static DirectPlugin plugin;
  return plugin;
}

// One runtime with the echo plugin (warm) and the native echo handler, shared
// by every benchmark and thread in this program.
struct WarmRuntime {
  WarmRuntime() : runtime(edge::bench::bench_node("bench-node")) {
    runtime.deploy(edge::bench::echo_function("echo"));
    runtime.deploy(edge::bench::native_echo_function("native-echo"));
    runtime.warm_up("echo");
    runtime.warm_up("native-echo");
  }
  edge::EdgeRuntime runtime;
};

WarmRuntime& warm_runtime() {
  static WarmRuntime shared;
  return shared;
}

void check_echo(benchmark::State& state, const std::string& output) {
  if (output != kSmallInput) [[unlikely]] {
    state.SkipWithError("echo returned something else than its input");
  }
}

void BM_DirectCall_EchoPlugin(benchmark::State& state) {
  const DirectPlugin& plugin = direct_plugin();
  // A fixed deadline: reading the clock is part of what the runtime adds.
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(1);
  std::string output;
  for (auto _ : state) {
    output = plugin.call(kSmallInput, deadline);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

void BM_RuntimeInvoke_EchoPlugin(benchmark::State& state) {
  edge::EdgeRuntime& runtime = warm_runtime().runtime;
  std::string output;
  for (auto _ : state) {
    output = runtime.invoke("echo", kSmallInput);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

// For reference: the same call path with a native std::function handler.
void BM_RuntimeInvoke_NativeHandler(benchmark::State& state) {
  edge::EdgeRuntime& runtime = warm_runtime().runtime;
  std::string output;
  for (auto _ : state) {
    output = runtime.invoke("native-echo", kSmallInput);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

// For reference: through EdgeCluster (route lookup + node choice) on a
// one-node cluster.
void BM_ClusterInvoke_EchoPlugin(benchmark::State& state) {
  edge::EdgeCluster cluster;
  cluster.register_node(edge::bench::bench_node("bench-node"));
  cluster.deploy_to_all(edge::bench::echo_function("echo"));
  cluster.invoke("echo", kSmallInput);  // the cold start
  std::string output;
  for (auto _ : state) {
    output = cluster.invoke("echo", kSmallInput);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

// Same function id on the same runtime from 1 and 2 threads. items_per_second
// is the aggregate throughput; compare threads:2 with threads:1.
void BM_RuntimeInvoke_EchoPlugin_Threads(benchmark::State& state) {
  edge::EdgeRuntime& runtime = warm_runtime().runtime;
  std::string output;
  for (auto _ : state) {
    output = runtime.invoke("echo", kSmallInput);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

// The same for the direct call: how well this machine scales the bare plugin
// call (the ceiling for the runtime's scaling).
void BM_DirectCall_EchoPlugin_Threads(benchmark::State& state) {
  const DirectPlugin& plugin = direct_plugin();
  const Clock::time_point deadline = Clock::now() + std::chrono::seconds(1);
  std::string output;
  for (auto _ : state) {
    output = plugin.call(kSmallInput, deadline);
    benchmark::DoNotOptimize(output);
  }
  check_echo(state, output);
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_DirectCall_EchoPlugin);
BENCHMARK(BM_RuntimeInvoke_EchoPlugin);
BENCHMARK(BM_RuntimeInvoke_NativeHandler);
BENCHMARK(BM_ClusterInvoke_EchoPlugin);
BENCHMARK(BM_RuntimeInvoke_EchoPlugin_Threads)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_DirectCall_EchoPlugin_Threads)->Threads(1)->Threads(2)->UseRealTime();

BENCHMARK_MAIN();
