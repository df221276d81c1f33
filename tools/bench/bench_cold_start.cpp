// Cold start of the echo plugin (deploy, then the first invoke: dlopen, the
// descriptor checks, init, the call) against the per-request process model
// (CGI / classic watchdog): spawn a tiny C echo program, write the input to
// its stdin, read its stdout to the end, reap it.
//
// Between iterations the previous version is undeployed and the epoch domain
// synchronised, so its library is really unloaded: every measured cold start
// maps the file again (from the page cache; no disk I/O). The benchmark
// checks /proc/self/maps each iteration and fails if echo.so stayed mapped.
#include "cold_start_support.hpp"

#include <edge/plugin_store.hpp>
#include <edge/runtime.hpp>

#include <benchmark/benchmark.h>

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <string>

extern char** environ;

namespace {

using edge::bench::Clock;
using edge::bench::kSmallInput;
using edge::bench::seconds_between;
using edge::bench::unload;

// Timed: runtime.deploy(fn) and the first (cold) runtime.invoke. The
// deploy_us and first_invoke_us counters split the time between the two.
void BM_ColdStart_DeployAndFirstInvoke(benchmark::State& state) {
  edge::EdgeRuntime runtime(edge::bench::bench_node("bench-node"));
  const edge::EdgeFunction function = edge::bench::echo_function("echo");
  const std::string file = function.plugin.string();
  double deploy_seconds = 0;
  double invoke_seconds = 0;
  std::string output;
  for (auto _ : state) {
    const Clock::time_point start = Clock::now();
    runtime.deploy(function);
    const Clock::time_point deployed = Clock::now();
    const edge::EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
    const Clock::time_point end = Clock::now();
    state.SetIterationTime(seconds_between(start, end));
    deploy_seconds += seconds_between(start, deployed);
    invoke_seconds += seconds_between(deployed, end);
    if (!result.cold_start || result.output != kSmallInput) {
      state.SkipWithError("the first invoke was not a cold start returning the input");
      break;
    }
    if (!unload(state, runtime, file)) break;
  }
  state.counters["deploy_us"] =
      benchmark::Counter(deploy_seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.counters["first_invoke_us"] =
      benchmark::Counter(invoke_seconds * 1e6, benchmark::Counter::kAvgIterations);
  state.SetItemsProcessed(state.iterations());
}

// Timed: only the cold invoke (the deploy happens untimed before it).
void BM_ColdStart_FirstInvokeOnly(benchmark::State& state) {
  edge::bench::first_invoke_only(state);
}

// As FirstInvokeOnly, loading through a PluginStore (edge-host's way): a
// stat and a lookup find the content-addressed copy of the unchanged file,
// which is what gets mapped. With `changed_file`, the file's mtime is bumped
// before each iteration (untimed), so every cold start also reads, hashes and
// copies it: the first cold start after a replacement.
void cold_start_with_store(benchmark::State& state, bool changed_file) {
  auto store = std::make_shared<edge::PluginStore>();
  edge::EdgeRuntime runtime(edge::bench::bench_node("bench-node"), store);
  edge::EdgeFunction function = edge::bench::echo_function("echo");
  // A private copy of echo.so, so that touching it leaves the build tree alone.
  function.plugin = store->cache_dir() / "user-echo.so";
  std::filesystem::copy_file(edge::bench::plugin_path("echo"), function.plugin);
  const std::string copy = (store->cache_dir() / (store->sha256(function.plugin) + ".so")).string();
  for (auto _ : state) {
    if (changed_file && ::utimensat(AT_FDCWD, function.plugin.c_str(), nullptr, 0) != 0) {
      state.SkipWithError("cannot touch echo.so");
      break;
    }
    runtime.deploy(function);
    const Clock::time_point start = Clock::now();
    const edge::EdgeRuntime::CallResult result = runtime.invoke_detailed("echo", kSmallInput);
    state.SetIterationTime(seconds_between(start, Clock::now()));
    if (!result.cold_start || result.output != kSmallInput) {
      state.SkipWithError("the first invoke was not a cold start returning the input");
      break;
    }
    if (!unload(state, runtime, copy)) break;
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ColdStart_FirstInvokeOnly_PluginStore(benchmark::State& state) {
  cold_start_with_store(state, false);
}
void BM_ColdStart_FirstInvokeOnly_PluginStoreChangedFile(benchmark::State& state) {
  cold_start_with_store(state, true);
}

// The per-request process: write `input` to the child's stdin, read its
// stdout until end of file, wait for it. `start` creates the child with the
// pipe ends on fds 0 and 1 and returns its pid (or -1).
template <class Start>
bool run_process(Start&& start, std::string_view input, std::string& output) {
  int to_child[2];
  int from_child[2];
  if (pipe2(to_child, O_CLOEXEC) != 0) return false;
  if (pipe2(from_child, O_CLOEXEC) != 0) {
    close(to_child[0]);
    close(to_child[1]);
    return false;
  }
  const pid_t pid = start(to_child[0], from_child[1]);
  close(to_child[0]);
  close(from_child[1]);
  bool ok = pid > 0;
  if (ok) {
    // 16 bytes fit in the pipe buffer: the write cannot block on the child.
    ok = write(to_child[1], input.data(), input.size()) == static_cast<ssize_t>(input.size());
  }
  close(to_child[1]);
  output.clear();
  char buffer[256];
  for (;;) {
    const ssize_t got = read(from_child[0], buffer, sizeof buffer);
    if (got > 0) {
      output.append(buffer, static_cast<std::size_t>(got));
    } else if (got == 0 || errno != EINTR) {
      break;
    }
  }
  close(from_child[0]);
  if (pid > 0) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  return ok;
}

pid_t spawn_child(const char* program, int stdin_fd, int stdout_fd) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, stdin_fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&actions, stdout_fd, STDOUT_FILENO);
  char* argv[] = {const_cast<char*>(program), nullptr};
  pid_t pid = -1;
  const int error = posix_spawn(&pid, program, &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  return error == 0 ? pid : -1;
}

pid_t fork_exec_child(const char* program, int stdin_fd, int stdout_fd) {
  const pid_t pid = fork();
  if (pid == 0) {
    // dup2 clears close-on-exec on the copies; the originals close at exec.
    if (dup2(stdin_fd, STDIN_FILENO) < 0 || dup2(stdout_fd, STDOUT_FILENO) < 0) _exit(126);
    char* argv[] = {const_cast<char*>(program), nullptr};
    execv(program, argv);
    _exit(127);
  }
  return pid;
}

template <class Start>
void process_per_request(benchmark::State& state, Start start) {
  std::string output;
  for (auto _ : state) {
    if (!run_process(start, kSmallInput, output) || output != kSmallInput) {
      state.SkipWithError("the echo process failed or returned something else");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ProcessPerRequest_PosixSpawn(benchmark::State& state, const char* program) {
  process_per_request(state, [program](int in, int out) { return spawn_child(program, in, out); });
}

void BM_ProcessPerRequest_ForkExec(benchmark::State& state, const char* program) {
  process_per_request(state,
                      [program](int in, int out) { return fork_exec_child(program, in, out); });
}

}  // namespace

BENCHMARK(BM_ColdStart_DeployAndFirstInvoke)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ColdStart_FirstInvokeOnly)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ColdStart_FirstInvokeOnly_PluginStore)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ColdStart_FirstInvokeOnly_PluginStoreChangedFile)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);
// The child's CPU time is not the parent's: wall-clock time is the measure.
BENCHMARK_CAPTURE(BM_ProcessPerRequest_PosixSpawn, dynamic, EDGE_BENCH_ECHO_PROCESS)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProcessPerRequest_ForkExec, dynamic, EDGE_BENCH_ECHO_PROCESS)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
#ifdef EDGE_BENCH_ECHO_PROCESS_STATIC
BENCHMARK_CAPTURE(BM_ProcessPerRequest_PosixSpawn, static, EDGE_BENCH_ECHO_PROCESS_STATIC)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
BENCHMARK_CAPTURE(BM_ProcessPerRequest_ForkExec, static, EDGE_BENCH_ECHO_PROCESS_STATIC)
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);
#endif

BENCHMARK_MAIN();
