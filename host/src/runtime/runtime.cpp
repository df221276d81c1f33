#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>
#include <edge/runtime.hpp>
#include <edge/sandbox.hpp>

#include "concurrency/epoch.hpp"
#include "concurrency/read_mostly_map.hpp"
#include "plugin/host_api.hpp"
#include "plugin/security_check.hpp"
#include "plugin/sha256.hpp"
#include "runtime/function_validation.hpp"
#include "runtime/function_version.hpp"
#include "util/format_number.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace edge {

using concurrency::EpochDomain;
using concurrency::EpochGuard;
using Clock = std::chrono::steady_clock;

struct EdgeRuntime::State {
  State(EdgeNode n, std::shared_ptr<PluginStore> s, std::shared_ptr<Sandbox> b)
      : node(std::move(n)), store(std::move(s)), sandbox_(std::move(b)) {}

  mutable std::mutex node_mutex;
  EdgeNode node;                             // guarded by node_mutex
  const std::shared_ptr<PluginStore> store;  // may be null: load by path

  // The sandbox for process isolation, made on first use if none was given.
  std::shared_ptr<Sandbox> sandbox() {
    std::lock_guard lock(sandbox_mutex_);
    if (!sandbox_) sandbox_ = Sandbox::shared_default();
    return sandbox_;
  }

  std::mutex write_mutex;  // serialises deploy/undeploy (writers of `functions`)
  concurrency::ReadMostlyMap<FunctionVersion> functions;
  // Counts of functions undeployed from this runtime, so the runtime's totals
  // stay cumulative. Written under write_mutex or departed_mutex; read with
  // relaxed loads.
  std::atomic<std::uint64_t> retired_invocations{0};
  std::atomic<std::uint64_t> retired_cold_starts{0};
  std::atomic<std::uint64_t> retired_errors{0};

  void retire(const FunctionMetrics::Totals& counts) {
    retired_invocations.fetch_add(counts.invocations, std::memory_order_relaxed);
    retired_cold_starts.fetch_add(counts.cold_starts, std::memory_order_relaxed);
    retired_errors.fetch_add(counts.errors, std::memory_order_relaxed);
  }

  // Metrics of undeployed functions, with what was already retired of them:
  // calls that were running (or about to start) on the undeployed version
  // still count when they return (a drain must not lose them from the
  // totals), and in_flight() sees them until then. An entry goes once its
  // version is destroyed (the list then holds the only reference): epoch-based
  // reclamation destroys a version only after every call that could see it
  // has left, so nothing can be counted on it any more.
  struct Departed {
    std::shared_ptr<FunctionMetrics> metrics;
    FunctionMetrics::Totals retired;
  };
  std::mutex departed_mutex;
  std::vector<Departed> departed;  // guarded by departed_mutex

  // Retires what departed functions counted since, and forgets those whose
  // version is gone. Returns the calls they still run.
  std::int64_t settle_departed() {
    std::int64_t running = 0;
    std::lock_guard lock(departed_mutex);
    std::erase_if(departed, [&](Departed& entry) {
      const bool version_gone = entry.metrics.use_count() == 1;  // read before the counts
      const FunctionMetrics::Totals now = entry.metrics->totals();
      retire({now.invocations - entry.retired.invocations, now.errors - entry.retired.errors, 0,
              now.cold_starts - entry.retired.cold_starts, 0});
      entry.retired = now;
      running += std::max<std::int64_t>(now.in_flight, 0);
      return version_gone;
    });
    return running;
  }

  // The runtime's cumulative counts: undeployed functions' plus the
  // deployed ones', in one pass.
  FunctionMetrics::Totals lifetime_totals() {
    settle_departed();
    FunctionMetrics::Totals totals;
    totals.invocations = retired_invocations.load(std::memory_order_relaxed);
    totals.cold_starts = retired_cold_starts.load(std::memory_order_relaxed);
    totals.errors = retired_errors.load(std::memory_order_relaxed);
    EpochGuard guard;
    functions.for_each([&](std::string_view, const FunctionVersion& version) {
      const FunctionMetrics::Totals current = version.metrics->totals();
      totals.invocations += current.invocations;
      totals.cold_starts += current.cold_starts;
      totals.errors += current.errors;
    });
    return totals;
  }

 private:
  std::mutex sandbox_mutex_;
  std::shared_ptr<Sandbox> sandbox_;  // guarded by sandbox_mutex_
};

namespace {

[[noreturn]] void unknown_function(std::string_view function_id, const std::string& node_id) {
  throw std::invalid_argument("unknown function '" + std::string(function_id) + "' on node '" +
                              node_id + "'");
}

// Process isolation: the version's worker pool, made on its first call.
// Throws PluginError when the plugin file is missing or quarantined.
// `sandbox` is asked for only when the pool is made.
template <class GetSandbox>
sandbox::WorkerPool& worker_pool(FunctionVersion& version,
                                 const std::shared_ptr<PluginStore>& store,
                                 GetSandbox get_sandbox) {
  // The hot path of a warm function: no lock.
  if (version.warm.load(std::memory_order_acquire)) return *version.workers;
  std::lock_guard lock(version.load_mutex);
  if (version.workers) return *version.workers;
  const EdgeFunction& function = version.function;
  std::filesystem::path plugin = function.plugin;
  try {
    if (store) {
      version.content =
          PluginStore::pin_content(store, function.plugin, function.id, function.plugin_sha256);
      plugin = version.content->copy;
    } else if (!std::filesystem::is_regular_file(plugin)) {
      throw PluginError("plugin " + plugin.string() + ": plugin file not found");
    } else if (!function.plugin_sha256.empty()) {
      // Loading by path: the worker opens the file itself, so this check and
      // its load can see different contents (use a PluginStore to avoid it).
      std::string actual;
      try {
        actual = sha256_of_file(plugin);
      } catch (const std::system_error& error) {
        throw PluginError("plugin " + plugin.string() + ": cannot read it: " + error.what());
      }
      if (actual != function.plugin_sha256) {
        throw PluginError(
            pin_mismatch_message(plugin, actual, function.id, function.plugin_sha256));
      }
    }
  } catch (const PluginError& error) {
    version.set_last_error(error.what());
    throw;
  }
  version.workers = std::make_unique<sandbox::WorkerPool>(
      get_sandbox(),
      sandbox::WorkerPoolSettings{function.id, plugin,
                                  std::map<std::string, std::string>(function.environment.begin(),
                                                                     function.environment.end()),
                                  function.timeout_seconds, function.memory_mb,
                                  function.max_workers},
      version.metrics->sandbox);
  version.warm.store(true, std::memory_order_release);
  return *version.workers;
}

// One call in a worker process; the pool enforces the deadline.
template <class GetSandbox>
std::string run_isolated(FunctionVersion& version, const std::shared_ptr<PluginStore>& store,
                         GetSandbox get_sandbox, std::string_view input, Clock::time_point deadline,
                         bool& cold_start) {
  sandbox::WorkerPool& pool = worker_pool(version, store, get_sandbox);
  try {
    sandbox::WorkerPool::Result result = pool.call(input, deadline);
    cold_start = result.cold_start;
    if (cold_start) version.set_last_error({});
    return std::move(result.output);
  } catch (const PluginError& error) {
    version.set_last_error(error.what());
    throw;
  }
}

// Loads the plugin (or marks a native handler warm). True when this call did
// the load, i.e. it was a cold start. A failure is remembered for the stats.
bool make_warm(FunctionVersion& version, PluginStore* store) {
  std::lock_guard lock(version.load_mutex);
  if (version.warm.load(std::memory_order_relaxed)) return false;
  if (!version.function.plugin.empty()) {
    LoadedPlugin::InitContext context{version.function.id, &version.environment,
                                      Clock::now() + version.timeout,
                                      version.function.plugin_sha256};
    try {
      version.plugin = store != nullptr ? store->load(version.function.plugin, context)
                                        : LoadedPlugin::load(version.function.plugin, context);
    } catch (const PluginError& error) {
      version.set_last_error(error.what());
      throw;
    }
    version.set_last_error({});
  }
  version.warm.store(true, std::memory_order_release);
  return true;
}

std::string run_plugin(const FunctionVersion& version, std::string_view input,
                       Clock::time_point deadline) {
  edge_call call;
  call.function_id = version.function.id;
  call.environment = &version.environment;
  call.deadline = deadline;
  const edge_result result = version.plugin->invoke(call, input);
  if (result == EDGE_OK) return std::move(call.output);
  const std::string message = call.error_set ? call.error : std::string("no message");
  if (result == EDGE_DEADLINE_EXCEEDED) {
    throw TimeoutError("function '" + version.function.id + "' stopped at its deadline (" +
                       format_number(version.function.timeout_seconds) + " s): " + message);
  }
  throw EdgeExecutionError("function '" + version.function.id + "' failed: " + message);
}

std::string run_handler(const FunctionVersion& version, std::string_view input) {
  try {
    return version.function.handler(input);
  } catch (const EdgeExecutionError&) {
    throw;
  } catch (const std::exception& error) {
    throw EdgeExecutionError("function '" + version.function.id + "' failed: " + error.what());
  } catch (...) {
    throw EdgeExecutionError("function '" + version.function.id + "' failed: unknown exception");
  }
}

}  // namespace

namespace {

void fill_sandbox_stats(const FunctionVersion& version, FunctionStats& stats) {
  stats.isolation = "process";
  const SandboxCounters& counters = version.metrics->sandbox;
  stats.worker_starts = counters.worker_starts.load(std::memory_order_relaxed);
  stats.timeout_kills = counters.timeout_kills.load(std::memory_order_relaxed);
  stats.oom_kills = counters.oom_kills.load(std::memory_order_relaxed);
  stats.crashes = counters.crashes.load(std::memory_order_relaxed);
  stats.breaker_rejections = counters.breaker_rejections.load(std::memory_order_relaxed);
  // Without load_mutex: stats must not wait behind a pool being made (which
  // copies and hashes the plugin). The pool and the content are published
  // by `warm` and never change after.
  if (!version.warm.load(std::memory_order_acquire)) return;  // never called: no pool yet
  if (version.content) stats.plugin_sha256 = version.content->sha256;
  const sandbox::WorkerPool::Status status = version.workers->status();
  stats.memory_limit = version.workers->memory_limit_mode();
  stats.workers = status.workers;
  stats.is_warm = status.warm;
  stats.breaker = std::string(sandbox::to_string(status.breaker));
  stats.breaker_retry_after_seconds = status.retry_after_seconds;
}

}  // namespace

EdgeRuntime::EdgeRuntime(EdgeNode node) : EdgeRuntime(std::move(node), nullptr) {}

EdgeRuntime::EdgeRuntime(EdgeNode node, std::shared_ptr<PluginStore> plugin_store)
    : EdgeRuntime(std::move(node), std::move(plugin_store), nullptr) {}

EdgeRuntime::EdgeRuntime(EdgeNode node, std::shared_ptr<PluginStore> plugin_store,
                         std::shared_ptr<Sandbox> sandbox)
    : state_(
          std::make_unique<State>(std::move(node), std::move(plugin_store), std::move(sandbox))) {}

EdgeRuntime::~EdgeRuntime() {
  // Callers guarantee no call is running on this runtime; earlier versions
  // may still wait in the epoch domain: run their shutdown hooks now.
  state_.reset();
  if (!EpochGuard::active()) EpochDomain::global().synchronize();
}

EdgeNode EdgeRuntime::node() const {
  std::lock_guard lock(state_->node_mutex);
  return state_->node;
}

void EdgeRuntime::update_node(const EdgeNode& node) {
  std::lock_guard lock(state_->node_mutex);
  state_->node = node;
}

void EdgeRuntime::deploy(EdgeFunction function) {
  deploy(std::move(function), PluginFileCheck::Required);
}

void EdgeRuntime::deploy(EdgeFunction function, PluginFileCheck file_check) {
  validate_function(function, file_check == PluginFileCheck::Required);
  const EdgeNode node = this->node();
  if (const std::optional<std::string> unmet = function.unmet_requirement(node)) {
    throw DeploymentError("cannot deploy function '" + function.id + "' on node '" + node.id +
                          "': " + *unmet);
  }
  {
    std::lock_guard lock(state_->write_mutex);
    std::shared_ptr<FunctionMetrics> metrics;
    {
      EpochGuard guard;
      if (const FunctionVersion* current = state_->functions.find(function.id)) {
        metrics = current->metrics;  // stats belong to the id and survive a redeploy
      }
    }
    if (!metrics) {
      if (static_cast<int>(state_->functions.size()) >= node.max_functions) {
        throw DeploymentError("cannot deploy function '" + function.id + "' on node '" + node.id +
                              "': node is full (" + std::to_string(node.max_functions) +
                              " functions)");
      }
      metrics = std::make_shared<FunctionMetrics>();
    }
    std::string id = function.id;
    state_->functions.insert_or_replace(std::move(id), std::move(function), std::move(metrics));
  }
  EpochDomain::global().reclaim();
}

bool EdgeRuntime::undeploy(std::string_view function_id) {
  {
    std::lock_guard lock(state_->write_mutex);
    {
      EpochGuard guard;
      const FunctionVersion* current = state_->functions.find(function_id);
      if (current == nullptr) return false;
      const FunctionMetrics::Totals totals = current->metrics->totals();
      state_->retire(totals);
      std::lock_guard departed_lock(state_->departed_mutex);
      state_->departed.push_back({current->metrics, totals});
    }
    state_->functions.erase(function_id);
  }
  EpochDomain::global().reclaim();
  state_->settle_departed();  // forgets the versions reclamation destroyed
  return true;
}

std::string EdgeRuntime::invoke(std::string_view function_id, std::string_view input) {
  return invoke_detailed(function_id, input).output;
}

EdgeRuntime::CallResult EdgeRuntime::invoke_detailed(std::string_view function_id,
                                                     std::string_view input) {
  EpochGuard guard;  // keeps the version (and its plugin) alive for the call
  FunctionVersion* version = state_->functions.find(function_id);
  if (version == nullptr) unknown_function(function_id, node().id);

  FunctionMetrics& metrics = *version->metrics;
  metrics.call_started();
  if (const int limit = version->function.max_in_flight; limit > 0) [[unlikely]] {
    // Counted after our own start, so at most `limit` calls pass (a race can
    // only refuse one call too many, never admit one).
    if (metrics.in_flight() > limit) {
      metrics.call_refused();
      throw BusyError("function '" + version->function.id + "' is busy: " + std::to_string(limit) +
                      " calls already running (max_in_flight)");
    }
  }
  const Clock::time_point start = Clock::now();
  CallResult result;
  // Records the call's outcome exactly once, whichever way it ends.
  const auto finish = [&](Clock::duration elapsed, bool failed, bool timed_out) {
    result.duration_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(elapsed).count();
    metrics.call_finished(result.duration_ns, failed, timed_out);
  };
  try {
    if (version->function.isolation == Isolation::Process) [[unlikely]] {
      result.output = run_isolated(
          *version, state_->store, [this] { return state_->sandbox(); }, input,
          start + version->timeout, result.cold_start);
      if (result.cold_start) {
        metrics.cold_start_done(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
      }
    } else if (!version->warm.load(std::memory_order_acquire)) [[unlikely]] {
      result.cold_start = make_warm(*version, state_->store.get());
      if (result.cold_start) {
        metrics.cold_start_done(
            std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count());
      }
    }
    if (version->function.isolation == Isolation::None) {
      result.output = version->plugin ? run_plugin(*version, input, start + version->timeout)
                                      : run_handler(*version, input);
    }
  } catch (const TimeoutError&) {
    finish(Clock::now() - start, true, true);
    throw;
  } catch (...) {
    finish(Clock::now() - start, true, false);
    throw;
  }
  const Clock::duration elapsed = Clock::now() - start;
  const bool timed_out = elapsed > version->timeout;
  finish(elapsed, timed_out, timed_out);
  if (timed_out) {
    throw TimeoutError("function '" + version->function.id + "' took " +
                       format_number(static_cast<double>(result.duration_ns) / 1e6) +
                       " ms, longer than its timeout of " +
                       format_number(version->function.timeout_seconds) + " s");
  }
  return result;
}

bool EdgeRuntime::warm_up(std::string_view function_id) {
  EpochGuard guard;
  FunctionVersion* version = state_->functions.find(function_id);
  if (version == nullptr) return false;
  if (version->function.isolation == Isolation::Process) {
    try {
      worker_pool(*version, state_->store, [this] {
        return state_->sandbox();
      }).warm_up(Clock::now() + version->timeout);
    } catch (const PluginError& error) {
      version->set_last_error(error.what());
      throw;
    }
    version->set_last_error({});
    return true;
  }
  make_warm(*version, state_->store.get());
  return true;
}

bool EdgeRuntime::has_function(std::string_view function_id) const {
  EpochGuard guard;
  return state_->functions.find(function_id) != nullptr;
}

EdgeFunction EdgeRuntime::function(std::string_view function_id) const {
  EpochGuard guard;
  const FunctionVersion* version = state_->functions.find(function_id);
  if (version == nullptr) unknown_function(function_id, node().id);
  return version->function;
}

std::vector<std::string> EdgeRuntime::function_ids() const {
  std::vector<std::string> ids;
  {
    EpochGuard guard;
    state_->functions.for_each(
        [&](std::string_view id, const FunctionVersion&) { ids.emplace_back(id); });
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

FunctionStats EdgeRuntime::get_function_stats(std::string_view function_id) const {
  EpochGuard guard;
  const FunctionVersion* version = state_->functions.find(function_id);
  if (version == nullptr) unknown_function(function_id, node().id);
  FunctionStats stats;
  stats.function_id = std::string(function_id);
  version->metrics->fill(stats);
  stats.is_warm = version->warm.load(std::memory_order_acquire);
  // The plugin is set before warm is published, and never changes after.
  if (stats.is_warm && version->plugin) stats.plugin_sha256 = version->plugin->sha256();
  stats.last_error = version->last_error();
  if (version->function.isolation == Isolation::Process) fill_sandbox_stats(*version, stats);
  if (state_->store && !version->function.plugin.empty()) {
    if (const auto quarantine =
            state_->store->quarantine_of(version->function.plugin, function_id)) {
      if (!stats.is_warm) {
        stats.quarantined = true;
        stats.quarantine_reason = quarantine->reason;
        stats.quarantine_sha256 = quarantine->sha256;
      } else if (quarantine->sha256 != stats.plugin_sha256) {
        stats.rejected_replacement_reason = quarantine->reason;
        stats.rejected_replacement_sha256 = quarantine->sha256;
      }
    }
  }
  return stats;
}

RuntimeSummary EdgeRuntime::summary() const {
  RuntimeSummary summary;
  summary.node_id = node().id;
  for (const std::string& id : function_ids()) {
    try {
      summary.functions.push_back(get_function_stats(id));
    } catch (const std::invalid_argument&) {
      // undeployed between the listing and now
    }
  }
  summary.function_count = summary.functions.size();
  const FunctionMetrics::Totals totals = state_->lifetime_totals();
  summary.total_invocations = totals.invocations;
  summary.cold_start_count = totals.cold_starts;
  summary.total_errors = totals.errors;
  return summary;
}

std::size_t EdgeRuntime::function_count() const { return state_->functions.size(); }

std::uint64_t EdgeRuntime::total_invocations() const {
  return state_->lifetime_totals().invocations;
}

std::int64_t EdgeRuntime::in_flight() const {
  std::int64_t total = state_->settle_departed();
  EpochGuard guard;
  state_->functions.for_each([&](std::string_view, const FunctionVersion& version) {
    total += version.metrics->in_flight();
  });
  return total;
}

const std::shared_ptr<PluginStore>& EdgeRuntime::plugin_store() const noexcept {
  return state_->store;
}

std::uint64_t EdgeRuntime::cold_start_count() const {
  return state_->lifetime_totals().cold_starts;
}

}  // namespace edge
