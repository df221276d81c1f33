#include "plugin_lifecycle.hpp"

#include <edge/errors.hpp>
#include <edge/reconcile.hpp>

#include <cstdlib>
#include <string>
#include <system_error>
#include <utility>

namespace edge::app {

std::optional<std::filesystem::path> plugin_cache_dir() {
  const char* cache_dir = std::getenv("EDGE_PLUGIN_CACHE_DIR");
  if (cache_dir == nullptr || *cache_dir == '\0') return std::nullopt;
  return cache_dir;
}

std::shared_ptr<PluginStore> make_plugin_store(const log::Logger& logger,
                                               const PluginSecurityPolicy& security) {
  PluginStoreOptions options;
  options.security = security;
  if (std::optional<std::filesystem::path> cache_dir = plugin_cache_dir()) {
    options.cache_dir = std::move(*cache_dir);
  }
  options.on_quarantine = [&logger](const QuarantinedPlugin& plugin) {
    logger.warn("plugin quarantined", {{"file", plugin.file.string()},
                                       {"sha256", plugin.sha256},
                                       {"function", plugin.function_id},
                                       {"reason", plugin.reason}});
  };
  return std::make_shared<PluginStore>(std::move(options));
}

PluginLifecycle::PluginLifecycle(EdgeCluster& cluster, Topology current,
                                 std::function<Topology()> load, const log::Logger& logger)
    : cluster_(cluster), current_(std::move(current)), load_(std::move(load)), logger_(logger) {}

PluginLifecycle::~PluginLifecycle() { stop(); }

void PluginLifecycle::start() { watch(current_.plugin_dir); }

void PluginLifecycle::stop() {
  if (hot_reload_) hot_reload_->stop();
  hot_reload_.reset();
}

void PluginLifecycle::watch(const std::filesystem::path& plugin_dir) {
  stop();
  try {
    hot_reload_ = std::make_unique<PluginHotReload>(
        cluster_, plugin_dir, [this](const PluginReloadReport& report) {
          if (report.refused()) {
            // The functions serve on with their current version: say so loudly.
            logger_.warn("plugin replacement refused", {{"change", report.to_string()}});
          } else if (report.names_functions() || !report.error.empty()) {
            logger_.info("plugin directory changed", {{"change", report.to_string()}});
          }
        });
    hot_reload_->start();
    logger_.debug("watching the plugin directory", {{"dir", plugin_dir.string()}});
  } catch (const std::exception& error) {
    hot_reload_.reset();
    logger_.warn("plugin directory not watched: hot reload is off",
                 {{"dir", plugin_dir.string()}, {"error", error.what()}});
  }
}

const Topology& PluginLifecycle::reload() {
  Topology next;
  try {
    next = load_();
  } catch (const std::exception& error) {
    logger_.error("SIGHUP: topology rejected, running state kept", {{"error", error.what()}});
    return current_;
  }
  const ReconcileSummary summary = reconcile_topology(cluster_, current_, next);
  logger_.info("SIGHUP: topology reloaded",
               {{"file", next.source.string()}, {"changes", summary.to_string()}});
  if (next.security != current_.security) {
    // The store read its policy and keys at start; swapping them under loads
    // in progress is not worth its complexity for a setting this rare.
    logger_.warn("SIGHUP: the security section changed; restart edge-host to apply it",
                 {{"file", next.source.string()}});
  }
  const bool plugin_dir_moved = next.plugin_dir != current_.plugin_dir;
  current_ = std::move(next);
  if (plugin_dir_moved) watch(current_.plugin_dir);
  return current_;
}

}  // namespace edge::app
