// What keeps a running edge-host's functions in step with its files: the
// content-addressed plugin store, the plugin directory watcher (hot reload)
// and SIGHUP's topology reload.
//
// Thread-safety: reload() runs on the io_context's thread; the watcher
// reports on its own thread, through the (thread-safe) logger only.
#pragma once

#include "log/logger.hpp"

#include <edge/cluster.hpp>
#include <edge/hot_reload.hpp>
#include <edge/plugin_store.hpp>
#include <edge/topology.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>

namespace edge::app {

// $EDGE_PLUGIN_CACHE_DIR when it is set and not empty (the systemd unit
// points it at the service's cache directory).
std::optional<std::filesystem::path> plugin_cache_dir();

// The store edge-host loads plugins through. Its copies go to
// $EDGE_PLUGIN_CACHE_DIR when set (the systemd unit points it at the
// service's cache directory), else to a private temporary directory. It
// applies the topology's security section at every load.
std::shared_ptr<PluginStore> make_plugin_store(const log::Logger& logger,
                                               const PluginSecurityPolicy& security);

class PluginLifecycle {
 public:
  // `load` reads the topology file again (with the command line's options).
  PluginLifecycle(EdgeCluster& cluster, Topology current, std::function<Topology()> load,
                  const log::Logger& logger);
  ~PluginLifecycle();
  PluginLifecycle(const PluginLifecycle&) = delete;
  PluginLifecycle& operator=(const PluginLifecycle&) = delete;

  // Starts watching the plugin directory; a directory that cannot be watched
  // is logged and the host runs on without hot reload.
  void start();
  void stop();

  // SIGHUP: reconciles the cluster to the file as it is now. A file that does
  // not load is logged and changes nothing. Returns the topology in force.
  const Topology& reload();
  const Topology& current() const noexcept { return current_; }

 private:
  void watch(const std::filesystem::path& plugin_dir);

  EdgeCluster& cluster_;
  Topology current_;
  std::function<Topology()> load_;
  const log::Logger& logger_;
  std::unique_ptr<PluginHotReload> hot_reload_;
};

}  // namespace edge::app
