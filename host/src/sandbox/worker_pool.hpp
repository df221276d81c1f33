// WorkerPool: the worker processes of one deployed version of a
// process-isolated function. Hands each call a free worker (starting one
// when fewer than max_workers run), queues calls when all are busy (bounded:
// a full queue is BusyError), turns how a call ended into the host's errors,
// and keeps the crash circuit breaker.
//
// Thread-safety: call() and warm_up() may run on many threads at once.
// Lifetime: destroying the pool ends its idle workers; no call may be running
// (the runtime destroys a version only after its calls returned).
#pragma once

#include <edge/sandbox.hpp>

#include "runtime/function_metrics.hpp"
#include "sandbox/circuit_breaker.hpp"
#include "sandbox/worker_process.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace edge::sandbox {

struct WorkerPoolSettings {
  std::string function_id;
  std::filesystem::path plugin;  // the file a worker loads (a store's content copy)
  std::map<std::string, std::string> environment;
  double timeout_seconds = 30;  // for messages; deadlines come with each call
  double memory_mb = 128;
  int max_workers = 1;
};

class WorkerPool {
 public:
  using Clock = std::chrono::steady_clock;

  // `counters` must outlive the pool (they belong to the function's
  // metrics). The pool keeps the sandbox alive: a retired version may be
  // destroyed after the runtime that made it.
  WorkerPool(std::shared_ptr<Sandbox> sandbox, WorkerPoolSettings settings,
             SandboxCounters& counters);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  struct Result {
    std::string output;
    bool cold_start = false;  // this call started its worker
  };
  // Runs one call in a worker. Throws TimeoutError (deadline: the worker was
  // killed, or no worker became free in time), WorkerCrashError,
  // MemoryLimitError, PluginError (the plugin did not load), BusyError (the
  // queue is full), CircuitOpenError, EdgeExecutionError (the plugin
  // reported an error, or no worker could be started).
  Result call(std::string_view input, Clock::time_point deadline);
  // Starts one worker and waits until its plugin is loaded, unless one runs
  // already. Throws as call() does.
  void warm_up(Clock::time_point deadline);

  struct Status {
    std::size_t workers = 0;  // alive: idle or serving a call
    CircuitBreaker::State breaker = CircuitBreaker::State::Closed;
    double retry_after_seconds = 0;
    bool warm = false;  // an idle worker has its plugin loaded
  };
  Status status() const;
  // What enforces memory_mb for these workers (Sandbox::memory_limit_mode).
  const std::string& memory_limit_mode() const noexcept { return sandbox_->memory_limit_mode(); }

 private:
  std::unique_ptr<WorkerProcess> acquire(Clock::time_point deadline, bool& cold_start);
  std::unique_ptr<WorkerProcess> start_worker(Clock::time_point deadline);
  // A worker counted in alive_ will not exist after all (it could not be
  // started, or was dropped without an outcome): frees its place for a
  // waiting call.
  void release_slot(bool count_as_failure);
  // Gives the worker back (or lets it go) and records the outcome.
  void finish(std::unique_ptr<WorkerProcess> worker, const WorkerOutcome& outcome);
  [[noreturn]] void raise(const WorkerOutcome& outcome, pid_t pid) const;
  SpawnRequest spawn_request(Clock::time_point deadline) const;

  const std::shared_ptr<Sandbox> sandbox_;
  const WorkerPoolSettings settings_;
  SandboxCounters& counters_;

  mutable std::mutex mutex_;
  std::condition_variable worker_freed_;
  std::vector<std::unique_ptr<WorkerProcess>> idle_;  // guarded by mutex_
  int alive_ = 0;                                     // guarded by mutex_
  std::size_t queued_ = 0;                            // guarded by mutex_
  CircuitBreaker breaker_;                            // guarded by mutex_
};

}  // namespace edge::sandbox
