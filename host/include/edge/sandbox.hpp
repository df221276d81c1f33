// Sandbox: runs the functions deployed with `isolation: process` in worker
// processes (docs/sandbox.md). One per host: it owns the zygote that forks
// the workers, and knows which limits the machine lets it enforce.
//
// What a worker gets: its own process group, a memory limit (a memory cgroup
// where the host may create one, else RLIMIT_AS), a process limit (a pids
// cgroup, else RLIMIT_NPROC), RLIMIT_NOFILE, no core dumps, no inherited
// file descriptors, only the function's environment, no_new_privs and a
// seccomp filter. A call past its deadline kills the worker's process group.
//
// Thread-safety: every method may be called from any thread.
// Lifetime: destroying the Sandbox stops the zygote, which kills every
// worker; runtimes hold it by shared_ptr, so it outlives their functions.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace edge {

struct SandboxOptions {
  // The edge-worker program; empty: find_worker_binary().
  std::filesystem::path worker_binary;
  // The circuit breaker: this many crashes (OOMs and failed loads included)
  // within the window make calls fail fast until the cool-down passes.
  std::size_t crash_limit = 5;
  double crash_window_seconds = 60;
  double cooldown_seconds = 30;
  // Calls a function may queue for a free worker; more fail with BusyError.
  std::size_t max_queue = 64;
  // Per worker: processes (pids.max or RLIMIT_NPROC) and open files.
  std::uint32_t max_processes = 64;
  std::uint32_t max_open_files = 256;
  // What a worker's stdout and stderr may put in the log; the rest is dropped.
  std::size_t output_limit_bytes = 64UL * 1024;
  bool seccomp = true;
  // false: resource limits only, never cgroups (to test the fallback).
  bool use_cgroups = true;
  // Receives a worker's captured output (edge-host logs it); nullptr: stderr.
  std::function<void(std::string_view function_id, pid_t pid, std::string_view text,
                     bool truncated)>
      on_output;
};

// The edge-worker program: $EDGE_WORKER_BINARY, else beside the running
// executable, else in ../libexec/edge/ from it, else where this library was
// installed or built. Empty when none exists.
std::filesystem::path find_worker_binary();

class Sandbox {
 public:
  // Finds out which limits can be enforced; does not start the zygote yet.
  // Throws edge::Error when there is no edge-worker program.
  explicit Sandbox(SandboxOptions options = {});
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  // Starts the zygote now (edge-host does, so that the first cold start
  // does not pay for it). Throws edge::Error if it cannot run.
  void start();

  const SandboxOptions& options() const noexcept;
  const std::filesystem::path& worker_binary() const noexcept;
  // What enforces memory_mb and the process limit here, for status output:
  // "cgroup v1 memory.limit_in_bytes", "RLIMIT_AS", "cgroup v2 pids.max", ...
  const std::string& memory_limit_mode() const noexcept;
  const std::string& process_limit_mode() const noexcept;
  // The zygote's pid; 0 when it is not running.
  pid_t zygote_pid() const;

  // The process-wide sandbox that runtimes created without one use, made
  // on first use with default options.
  static std::shared_ptr<Sandbox> shared_default();

  // Host-internal (host/src/sandbox/sandbox_state.hpp).
  struct State;
  State& state() noexcept { return *state_; }

 private:
  std::unique_ptr<State> state_;
};

}  // namespace edge
