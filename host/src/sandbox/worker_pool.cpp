#include "sandbox/worker_pool.hpp"

#include <edge/errors.hpp>

#include "sandbox/sandbox_state.hpp"
#include "util/format_number.hpp"

#include <edge/sdk.h>

namespace edge::sandbox {
namespace {

using Clock = std::chrono::steady_clock;

// Room for the Invoke frame's own fields within kMaxPayload.
constexpr std::size_t kMaxInput = kMaxPayload - 64;

CircuitBreaker::Settings breaker_settings(const SandboxOptions& options) {
  using Seconds = std::chrono::duration<double>;
  return {options.crash_limit,
          std::chrono::duration_cast<Clock::duration>(Seconds(options.crash_window_seconds)),
          std::chrono::duration_cast<Clock::duration>(Seconds(options.cooldown_seconds))};
}

double seconds_until(Clock::time_point when) {
  const double left = std::chrono::duration<double>(when - Clock::now()).count();
  return left > 0 ? left : 0;
}

}  // namespace

WorkerPool::WorkerPool(std::shared_ptr<Sandbox> sandbox, WorkerPoolSettings settings,
                       SandboxCounters& counters)
    : sandbox_(std::move(sandbox)),
      settings_(std::move(settings)),
      counters_(counters),
      breaker_(breaker_settings(sandbox_->options())) {}

WorkerPool::~WorkerPool() = default;

SpawnRequest WorkerPool::spawn_request(Clock::time_point deadline) const {
  SpawnRequest request =
      sandbox_->state().spawn_request(settings_.function_id, settings_.plugin, settings_.memory_mb);
  request.environment = settings_.environment;
  request.init_budget_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now()).count();
  return request;
}

void WorkerPool::release_slot(bool count_as_failure) {
  {
    std::lock_guard lock(mutex_);
    --alive_;
    if (count_as_failure) breaker_.record_failure(Clock::now());
  }
  worker_freed_.notify_one();
}

std::unique_ptr<WorkerProcess> WorkerPool::start_worker(Clock::time_point deadline) {
  Sandbox::State& state = sandbox_->state();
  try {
    Zygote::Spawned spawned = state.zygote.spawn(spawn_request(deadline));
    counters_.worker_starts.fetch_add(1, std::memory_order_relaxed);
    return std::make_unique<WorkerProcess>(state.zygote, std::move(spawned), settings_.function_id);
  } catch (const SpawnFailed& error) {
    release_slot(/*count_as_failure=*/true);
    throw EdgeExecutionError("function '" + settings_.function_id +
                             "': cannot start a worker process: " + error.what());
  }
}

std::unique_ptr<WorkerProcess> WorkerPool::acquire(Clock::time_point deadline, bool& cold_start) {
  std::unique_lock lock(mutex_);
  const auto refuse_if_open = [&] {
    if (!breaker_.allow(Clock::now())) {
      counters_.breaker_rejections.fetch_add(1, std::memory_order_relaxed);
      throw CircuitOpenError(
          "function '" + settings_.function_id + "' is failing fast: its workers crashed " +
              std::to_string(sandbox_->options().crash_limit) + " times within " +
              format_number(sandbox_->options().crash_window_seconds) +
              " s (circuit breaker open; a trial call is let through in " +
              format_number(seconds_until(breaker_.reopens_at())) +
              " s, or at once when the plugin changes)",
          seconds_until(breaker_.reopens_at()));
    }
  };
  if (breaker_.state(Clock::now()) == CircuitBreaker::State::Open) refuse_if_open();
  for (;;) {
    if (!idle_.empty()) {
      refuse_if_open();  // half-open: only one trial at a time
      std::unique_ptr<WorkerProcess> worker = std::move(idle_.back());
      idle_.pop_back();
      return worker;
    }
    if (alive_ < settings_.max_workers) {
      refuse_if_open();
      ++alive_;
      cold_start = true;
      lock.unlock();
      return start_worker(deadline);
    }
    if (queued_ >= sandbox_->options().max_queue) {
      throw BusyError("function '" + settings_.function_id + "' is busy: its " +
                      std::to_string(settings_.max_workers) + " worker(s) are serving calls and " +
                      std::to_string(queued_) + " calls wait already (max_workers, queue limit)");
    }
    ++queued_;
    const bool freed = worker_freed_.wait_until(
        lock, deadline, [&] { return !idle_.empty() || alive_ < settings_.max_workers; });
    --queued_;
    if (!freed) {
      throw TimeoutError("function '" + settings_.function_id + "' waited " +
                         format_number(settings_.timeout_seconds) +
                         " s (its timeout) for a free worker; all " +
                         std::to_string(settings_.max_workers) + " were busy");
    }
  }
}

void WorkerPool::finish(std::unique_ptr<WorkerProcess> worker, const WorkerOutcome& outcome) {
  using Kind = WorkerOutcome::Kind;
  switch (outcome.kind) {
    case Kind::TimedOut:
      counters_.timeout_kills.fetch_add(1, std::memory_order_relaxed);
      break;
    case Kind::Crashed:
      counters_.crashes.fetch_add(1, std::memory_order_relaxed);
      break;
    case Kind::OutOfMemory:
      counters_.oom_kills.fetch_add(1, std::memory_order_relaxed);
      break;
    default:
      break;
  }
  {
    std::lock_guard lock(mutex_);
    // Crashes, OOMs and failed loads trip the breaker; a timeout does not
    // (the deadline already bounds what a spinning plugin costs).
    if (outcome.kind == Kind::Crashed || outcome.kind == Kind::OutOfMemory ||
        outcome.kind == Kind::LoadFailed) {
      breaker_.record_failure(Clock::now());
    } else {
      breaker_.record_success();
    }
    if (outcome.worker_survives()) {
      idle_.push_back(std::move(worker));
    } else {
      --alive_;
    }
  }
  worker_freed_.notify_one();
  // A dead worker is released here, outside the lock.
}

void WorkerPool::raise(const WorkerOutcome& outcome, pid_t pid) const {
  using Kind = WorkerOutcome::Kind;
  const std::string function = "function '" + settings_.function_id + "'";
  const std::string worker = "its worker (pid " + std::to_string(pid) + ")";
  switch (outcome.kind) {
    case Kind::Ok:
      break;
    case Kind::Failed:
      if (outcome.result == EDGE_DEADLINE_EXCEEDED) {
        throw TimeoutError(function + " stopped at its deadline (" +
                           format_number(settings_.timeout_seconds) + " s): " + outcome.message);
      }
      throw EdgeExecutionError(function + " failed: " + outcome.message);
    case Kind::LoadFailed:
      throw PluginError(outcome.message);
    case Kind::TimedOut:
      throw TimeoutError(function + " passed its timeout of " +
                         format_number(settings_.timeout_seconds) + " s; " + worker +
                         " was killed");
    case Kind::OutOfMemory:
      throw MemoryLimitError(function + " exceeded its memory limit of " +
                             format_number(settings_.memory_mb) + " MB (" +
                             sandbox_->memory_limit_mode() + "); " + worker + " died");
    case Kind::Crashed:
      throw WorkerCrashError(function + " crashed: " + worker + " " + outcome.message);
  }
  throw EdgeExecutionError(function + ": unexpected worker outcome");
}

WorkerPool::Result WorkerPool::call(std::string_view input, Clock::time_point deadline) {
  if (input.size() > kMaxInput) {
    throw EdgeExecutionError(
        "function '" + settings_.function_id + "': an input of " + std::to_string(input.size()) +
        " bytes is over the process-isolation limit of " + std::to_string(kMaxInput) + " bytes");
  }
  Result result;
  std::unique_ptr<WorkerProcess> worker = acquire(deadline, result.cold_start);
  WorkerOutcome outcome;
  try {
    outcome = worker->call(input, deadline);
  } catch (...) {
    // Not the plugin's doing (e.g. no memory for the frame): the worker's
    // state is unknown, so it goes, and its slot with it.
    worker->kill();
    worker.reset();
    release_slot(/*count_as_failure=*/false);
    throw;
  }
  const pid_t pid = worker->pid();
  finish(std::move(worker), outcome);
  if (outcome.kind != WorkerOutcome::Kind::Ok) raise(outcome, pid);
  result.output = std::move(outcome.output);
  return result;
}

void WorkerPool::warm_up(Clock::time_point deadline) {
  {
    std::lock_guard lock(mutex_);
    if (alive_ > 0) return;
  }
  bool cold_start = false;
  std::unique_ptr<WorkerProcess> worker = acquire(deadline, cold_start);
  WorkerOutcome outcome = worker->wait_until_loaded(deadline);
  const pid_t pid = worker->pid();
  finish(std::move(worker), outcome);
  if (outcome.kind != WorkerOutcome::Kind::Ok) raise(outcome, pid);
}

WorkerPool::Status WorkerPool::status() const {
  std::lock_guard lock(mutex_);
  Status status;
  status.workers = static_cast<std::size_t>(alive_);
  status.breaker = breaker_.state(Clock::now());
  if (status.breaker == CircuitBreaker::State::Open) {
    status.retry_after_seconds = seconds_until(breaker_.reopens_at());
  }
  for (const auto& worker : idle_) status.warm = status.warm || worker->loaded();
  return status;
}

}  // namespace edge::sandbox
