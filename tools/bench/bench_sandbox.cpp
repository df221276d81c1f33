// Process isolation (isolation: process) against the in-process runtime and
// against starting a fresh program, all in one run:
//
// - cold start: the first call of a new version of `echo`, which asks the
//   already-running zygote for a worker (fork, confinement, cgroup), loads
//   the plugin there, runs its init and the call; beside the in-process cold
//   start (dlopen in the host) and fork+exec of an empty C program;
// - warm call: `echo` with 16 bytes through an idle worker (one framed round
//   trip over a socketpair), beside the in-process call and a bare socketpair
//   ping-pong with a forked child (the floor of any round trip to a process);
// - timeout kill: `spin` never returns; how long after its deadline the call
//   fails with TimeoutError (the host kills the worker's process group).
//
// Between cold starts the previous version is undeployed, the epoch domain
// synchronised (which destroys the version and lets its worker go), and the
// benchmark waits, untimed, until the zygote has reaped that worker: workers
// never pile up, and each measured cold start finds a quiet zygote.
#include "cold_start_support.hpp"

#include <edge/errors.hpp>
#include <edge/runtime.hpp>
#include <edge/sandbox.hpp>

#include "concurrency/epoch.hpp"
#include "sandbox/sandbox_state.hpp"
#include "sandbox/worker_process.hpp"

#include "percentile.hpp"

#include <benchmark/benchmark.h>

#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using edge::bench::Clock;
using edge::bench::kSmallInput;
using edge::bench::seconds_between;

constexpr double kSpinTimeoutSeconds = 0.02;
constexpr int kTimeoutCalls = 200;

// What a sandbox enforces. The benchmarks' figures are for Full (the
// default options); the others only attribute the cold start's cost.
enum class Confinement { Full, NoCgroups, NoSeccomp, Neither };

// One sandbox (one zygote) per confinement for the whole program, started
// before its first benchmark as edge-host starts it: no measured cold start
// pays for starting the zygote.
edge::Sandbox& sandbox(Confinement confinement = Confinement::Full) {
  static std::shared_ptr<edge::Sandbox> instances[4];
  std::shared_ptr<edge::Sandbox>& instance = instances[static_cast<int>(confinement)];
  if (!instance) {
    edge::SandboxOptions options;
    options.on_output = [](std::string_view, pid_t, std::string_view, bool) {};
    options.use_cgroups = confinement == Confinement::Full || confinement == Confinement::NoSeccomp;
    options.seccomp = confinement == Confinement::Full || confinement == Confinement::NoCgroups;
    instance = std::make_shared<edge::Sandbox>(std::move(options));
    instance->start();
  }
  return *instance;
}

edge::EdgeRuntime sandbox_runtime(Confinement confinement = Confinement::Full) {
  edge::EdgeNode node = edge::bench::bench_node("bench-node");
  node.resources.memory_max_mb = 1 << 20;
  // The runtime holds its sandbox by shared_ptr; the static ones outlive it.
  return edge::EdgeRuntime(
      node, nullptr, std::shared_ptr<edge::Sandbox>(&sandbox(confinement), [](edge::Sandbox*) {}));
}

edge::EdgeFunction isolated(const std::string& id, const std::string& plugin, double timeout) {
  edge::EdgeFunction function;
  function.id = id;
  function.name = plugin;
  function.plugin = edge::bench::plugin_path(plugin);
  function.isolation = edge::Isolation::Process;
  function.memory_mb = 64;
  function.timeout_seconds = timeout;
  return function;
}

// Waits until the zygote has reaped every worker the host let go (and
// removed their cgroups, which it does before reporting the exit).
bool wait_for_workers_gone(benchmark::State& state, Confinement confinement = Confinement::Full) {
  const Clock::time_point limit = Clock::now() + std::chrono::seconds(5);
  while (sandbox(confinement).state().zygote.tracked_workers() != 0) {
    if (Clock::now() > limit) {
      state.SkipWithError("a released worker was not reaped within 5 s");
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
  return true;
}

// Undeploys `id` and runs the retired version's destructor now.
void retire(edge::EdgeRuntime& runtime, const std::string& id) {
  runtime.undeploy(id);
  edge::concurrency::EpochDomain::global().synchronize();
}

// Timed: the first invoke of a new version of a process-isolated `echo`:
// the zygote forks and confines a worker, which loads echo.so, runs its init
// and the call, and answers over the new channel.
// The argument is a Confinement: 0 (Full) is the figure; 1-3 leave out the
// cgroups (RLIMIT_AS and RLIMIT_NPROC instead), seccomp, or both.
void BM_Sandbox_ColdStart_FirstInvoke(benchmark::State& state) {
  const auto confinement = static_cast<Confinement>(state.range(0));
  edge::EdgeRuntime runtime = sandbox_runtime(confinement);
  const edge::EdgeFunction function = isolated("echo", "echo", 1);
  std::vector<double> times_us;
  try {
    for (auto _ : state) {
      runtime.deploy(function);
      const Clock::time_point start = Clock::now();
      const edge::EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
      const double seconds = seconds_between(start, Clock::now());
      state.SetIterationTime(seconds);
      times_us.push_back(seconds * 1e6);
      if (!result.cold_start || result.output != kSmallInput) {
        state.SkipWithError("the first invoke was not a cold start returning the input");
        break;
      }
      retire(runtime, "echo");
      if (!wait_for_workers_gone(state, confinement)) break;
    }
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
  state.counters["p50_us"] = edge::bench::percentile(times_us, 0.50);
  state.counters["p99_us"] = edge::bench::percentile(times_us, 0.99);
  state.SetItemsProcessed(state.iterations());
}

// The same cold start taken apart, with the host's internals the runtime
// uses (full confinement): `spawn_us` is the zygote round trip (the request,
// the worker's cgroups, socketpair, fork, the reply carrying the channel);
// `load_us` from there until the worker reports its plugin loaded (its
// confinement: cgroup joins, rlimits, descriptors, seccomp; then dlopen and
// init); `call_us` the first Invoke round trip. The runtime sends the Invoke
// without waiting for Loaded, so the sum is a little above the real figure.
void BM_Sandbox_ColdStart_Breakdown(benchmark::State& state) {
  edge::Sandbox& shared = sandbox();
  edge::Sandbox::State& internals = shared.state();
  edge::sandbox::SpawnRequest request =
      internals.spawn_request("echo", edge::bench::plugin_path("echo"), 64);
  double spawn_seconds = 0;
  double load_seconds = 0;
  double call_seconds = 0;
  try {
    for (auto _ : state) {
      bool answered = false;
      {
        const Clock::time_point start = Clock::now();
        request.init_budget_ns = 1'000'000'000;
        edge::sandbox::WorkerProcess worker(internals.zygote, internals.zygote.spawn(request),
                                            "echo");
        const Clock::time_point spawned = Clock::now();
        const edge::sandbox::WorkerOutcome loaded =
            worker.wait_until_loaded(spawned + std::chrono::seconds(1));
        const Clock::time_point ready = Clock::now();
        const edge::sandbox::WorkerOutcome called =
            worker.call(kSmallInput, ready + std::chrono::seconds(1));
        const Clock::time_point end = Clock::now();
        state.SetIterationTime(seconds_between(start, end));
        spawn_seconds += seconds_between(start, spawned);
        load_seconds += seconds_between(spawned, ready);
        call_seconds += seconds_between(ready, end);
        answered = loaded.kind == edge::sandbox::WorkerOutcome::Kind::Ok &&
                   called.kind == edge::sandbox::WorkerOutcome::Kind::Ok &&
                   called.output == kSmallInput;
      }  // the worker is let go: its channel closes and it exits
      if (!answered) {
        state.SkipWithError("the worker did not load echo and answer");
        break;
      }
      if (!wait_for_workers_gone(state)) break;
    }
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
  state.counters["spawn_us"] =
      benchmark::Counter(spawn_seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["load_us"] =
      benchmark::Counter(load_seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["call_us"] =
      benchmark::Counter(call_seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

// The baseline: the same first invoke in the host process (dlopen, checks,
// init, call). The library is unloaded between iterations, checked in
// /proc/self/maps: bench_cold_start's FirstInvokeOnly, in this run.
void BM_InProcess_ColdStart_FirstInvoke(benchmark::State& state) {
  edge::bench::first_invoke_only(state);
}

// The alternative to a zygote: start a fresh program per worker. This is its
// floor: fork, exec of an empty dynamically linked C program (the dynamic
// loader, libc's start-up), its exit, waitpid. No plugin, no confinement.
void BM_ForkExec_EmptyProgram(benchmark::State& state) {
  const char* program = EDGE_BENCH_EMPTY_PROGRAM;
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      char* argv[] = {const_cast<char*>(program), nullptr};
      ::execv(program, argv);
      ::_exit(127);
    }
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
      state.SkipWithError("fork+exec of the empty program failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// A building block of both: fork of this (small) process, the child's
// immediate _exit, waitpid. No exec, no loader.
void BM_Fork_ChildExits(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    int status = 0;
    while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (pid < 0 || !WIFEXITED(status)) {
      state.SkipWithError("fork failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

// Warm: `echo` with 16 bytes through the function's idle worker.
void BM_Sandbox_WarmCall(benchmark::State& state) {
  edge::EdgeRuntime runtime = sandbox_runtime();
  try {
    runtime.deploy(isolated("echo", "echo", 1));
    runtime.warm_up("echo");
    for (auto _ : state) {
      const edge::EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
      if (result.cold_start || result.output != kSmallInput) {
        state.SkipWithError("a warm call started a worker or returned something else");
        break;
      }
      benchmark::DoNotOptimize(result);
    }
    retire(runtime, "echo");
    wait_for_workers_gone(state);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
  state.SetItemsProcessed(state.iterations());
}

// The baseline: the same plugin called in the host process.
void BM_InProcess_WarmCall(benchmark::State& state) {
  edge::EdgeRuntime runtime(edge::bench::bench_node("bench-node"));
  runtime.deploy(edge::bench::echo_function("echo"));
  runtime.warm_up("echo");
  for (auto _ : state) {
    const edge::EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(state.iterations());
}

// The floor of a round trip to another process on this machine: 16 bytes to
// a forked child over a SOCK_STREAM socketpair (what the host and a worker
// use) and 16 bytes back, with blocking reads on both sides.
void BM_SocketpairRoundTrip_ForkedChild(benchmark::State& state) {
  int sockets[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0) {
    state.SkipWithError("socketpair failed");
    return;
  }
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sockets[0]);
    char buffer[64];
    for (;;) {
      const ssize_t got = ::read(sockets[1], buffer, sizeof buffer);
      if (got <= 0) ::_exit(0);
      if (::write(sockets[1], buffer, static_cast<size_t>(got)) != got) ::_exit(1);
    }
  }
  ::close(sockets[1]);
  char buffer[64];
  for (auto _ : state) {
    if (::write(sockets[0], kSmallInput.data(), kSmallInput.size()) !=
        static_cast<ssize_t>(kSmallInput.size())) {
      state.SkipWithError("write to the child failed");
      break;
    }
    std::size_t received = 0;
    while (received < kSmallInput.size()) {
      const ssize_t got = ::read(sockets[0], buffer + received, sizeof buffer - received);
      if (got <= 0) break;
      received += static_cast<std::size_t>(got);
    }
    if (received != kSmallInput.size()) {
      state.SkipWithError("the child did not answer");
      break;
    }
  }
  ::close(sockets[0]);
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  state.SetItemsProcessed(state.iterations());
}

// Timeout kill latency: `spin` busy-loops forever; the call's deadline is its
// start plus 20 ms. Measured (manual time): from the deadline to the moment
// invoke throws TimeoutError. Each kill ends the worker, so before each
// timed call a new one is started with warm_up (untimed) and the previous
// one's reaping is awaited. Counters: p50, p99 and max over the run's calls.
void BM_Sandbox_TimeoutKill(benchmark::State& state) {
  edge::EdgeRuntime runtime = sandbox_runtime();
  const auto timeout = std::chrono::duration_cast<Clock::duration>(
      std::chrono::duration<double>(kSpinTimeoutSeconds));
  std::vector<double> latencies_us;
  latencies_us.reserve(kTimeoutCalls);
  double warm_up_retries = 0;
  try {
    runtime.deploy(isolated("spin", "spin", kSpinTimeoutSeconds));
    for (auto _ : state) {
      if (!wait_for_workers_gone(state)) break;
      // warm_up has the function's 20 ms to start and load a worker; under
      // load a start can take longer (it is then killed): try again.
      for (int attempt = 1;; ++attempt) {
        try {
          runtime.warm_up("spin");
          break;
        } catch (const edge::TimeoutError&) {
          if (attempt == 5) throw;
          ++warm_up_retries;
          if (!wait_for_workers_gone(state)) break;
        }
      }
      const Clock::time_point start = Clock::now();
      Clock::time_point failed;
      try {
        runtime.invoke("spin", "");
        state.SkipWithError("spin returned instead of timing out");
        break;
      } catch (const edge::TimeoutError& error) {
        failed = Clock::now();
        if (std::string_view(error.what()).find("was killed") == std::string_view::npos) {
          state.SkipWithError(
              ("the timeout did not kill the worker: " + std::string(error.what())).c_str());
          break;
        }
      }
      const double late = seconds_between(start + timeout, failed);
      if (late < 0) {
        state.SkipWithError("TimeoutError came before the deadline");
        break;
      }
      state.SetIterationTime(late);
      latencies_us.push_back(late * 1e6);
    }
    retire(runtime, "spin");
    wait_for_workers_gone(state);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
  state.counters["p50_us"] = edge::bench::percentile(latencies_us, 0.50);
  state.counters["p99_us"] = edge::bench::percentile(latencies_us, 0.99);
  state.counters["max_us"] = edge::bench::percentile(latencies_us, 1.0);
  state.counters["warm_up_retries"] = warm_up_retries;
  state.SetItemsProcessed(state.iterations());
}

}  // namespace

BENCHMARK(BM_Sandbox_ColdStart_FirstInvoke)
    ->ArgName("confinement")
    ->DenseRange(0, 3)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Sandbox_ColdStart_Breakdown)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_InProcess_ColdStart_FirstInvoke)->UseManualTime()->Unit(benchmark::kMicrosecond);
// The child's CPU time is not the parent's: wall-clock time is the measure.
BENCHMARK(BM_ForkExec_EmptyProgram)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Fork_ChildExits)->UseRealTime()->Unit(benchmark::kMicrosecond);
// The worker's and the child's CPU time are not this thread's: wall clock.
BENCHMARK(BM_Sandbox_WarmCall)->UseRealTime();
BENCHMARK(BM_InProcess_WarmCall)->UseRealTime();
BENCHMARK(BM_SocketpairRoundTrip_ForkedChild)->UseRealTime();
BENCHMARK(BM_Sandbox_TimeoutKill)
    ->UseManualTime()
    ->Iterations(kTimeoutCalls)
    ->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  try {
    edge::Sandbox& shared = sandbox();
    benchmark::AddCustomContext("sandbox_memory_limit", shared.memory_limit_mode());
    benchmark::AddCustomContext("sandbox_process_limit", shared.process_limit_mode());
    benchmark::AddCustomContext("sandbox_seccomp", shared.options().seccomp ? "on" : "off");
  } catch (const std::exception& error) {
    std::fprintf(stderr, "bench_sandbox: cannot start the sandbox: %s\n", error.what());
    return 1;
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
