// One deployed version of a function on one runtime: its definition, its
// plugin once loaded, and (shared with later versions of the same id) its
// metrics. Immutable after deploy except for the lazily loaded plugin.
#pragma once

#include <edge/models.hpp>

#include <edge/plugin_store.hpp>

#include "plugin/loaded_plugin.hpp"
#include "runtime/function_metrics.hpp"
#include "sandbox/worker_pool.hpp"

#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace edge {

struct FunctionVersion {
  FunctionVersion(EdgeFunction definition, std::shared_ptr<FunctionMetrics> shared_metrics)
      : function(std::move(definition)),
        environment(function.environment.begin(), function.environment.end()),
        timeout(std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(function.timeout_seconds))),
        metrics(std::move(shared_metrics)) {}

  const EdgeFunction function;
  // The environment with heterogeneous lookup, for the SDK's get_env.
  const std::map<std::string, std::string, std::less<>> environment;
  const std::chrono::steady_clock::duration timeout;
  const std::shared_ptr<FunctionMetrics> metrics;

  // Warm means: plugin loaded and initialised, or native handler called once,
  // or (process isolation) the worker pool made.
  std::atomic<bool> warm{false};
  // Set once, under load_mutex; read lock-free by calls once warm is true.
  std::unique_ptr<LoadedPlugin> plugin;
  // Process isolation instead: the pool of worker processes, and the content
  // copy they load (pinned in the store while the pool may start workers).
  // Set once, under load_mutex, like `plugin`. Destroyed in reverse order:
  // the pool's workers first.
  std::shared_ptr<const PluginStore::ContentPin> content;
  std::unique_ptr<sandbox::WorkerPool> workers;
  std::mutex load_mutex;

  // Why the last cold start failed (empty once loaded). Its own small lock:
  // stats must not wait behind a cold start that holds load_mutex.
  std::string last_error() const {
    std::lock_guard lock(error_mutex);
    return last_error_;
  }
  void set_last_error(std::string message) {
    std::lock_guard lock(error_mutex);
    last_error_ = std::move(message);
  }

 private:
  mutable std::mutex error_mutex;
  std::string last_error_;  // guarded by error_mutex
};

}  // namespace edge
