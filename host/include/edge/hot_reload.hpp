// Hot reload of plugin files: what a change to a plugin file does to the
// functions that name it, and PluginHotReload, which watches a plugin
// directory and applies every change.
//
// A file written with new content is first tried: the cluster's PluginStore
// runs the checks of a cold start on it (security policy, ELF, entry symbol,
// ABI, descriptor; not init). Only a content that passes is switched to:
// every function naming it gets a new version on the same nodes (calls in
// flight finish on the old code, the next call is a cold start of the new
// content) unless all its copies already run that content, or the function
// pins another SHA-256. A content that fails keeps every function on the
// version it has (warm copies keep serving the old code; the store
// quarantines the content by hash) and the report's error says why. A
// function not warm has no old version to keep: its next cold start loads
// whatever the file holds.
//
// A file removed: nothing changes; warm copies keep serving and a later cold
// start fails with "plugin file not found" until the file is back. Content
// is compared by SHA-256, so touching a file or copying the same bytes over
// it redeploys nothing that is warm.
//
// Needs a cluster with a PluginStore (ClusterOptions::plugin_store): loading
// by path, the dynamic loader would hand back the already-mapped old library
// for the same path.
#pragma once

#include <edge/cluster.hpp>
#include <edge/plugin_watcher.hpp>

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace edge {

// What one plugin file change did.
struct PluginReloadReport {
  std::filesystem::path file;
  PluginFileChange change = PluginFileChange::Written;
  std::string sha256;                   // Written: the file's content now
  std::vector<std::string> redeployed;  // functions now on a new version
  std::vector<std::string> unchanged;   // functions already running this content
  std::vector<std::string> still_warm;  // Removed: functions whose warm copies keep serving
  std::vector<std::string> not_loaded;  // Removed: functions whose next cold start will fail
  // Written: functions kept on their current version because the new content
  // failed its trial (see `error`).
  std::vector<std::string> kept;
  // Written: functions kept on their current version because they pin
  // another SHA-256, and (same order) why: "plugin <file> has sha256 <new>,
  // but function 'f' pins <pinned>".
  std::vector<std::string> pinned_elsewhere;
  std::vector<std::string> pin_refusals;
  // Why the change could not be applied: the file is unreadable, or its new
  // content was refused (naming the file, the hash and the reason).
  std::string error;

  // Whether any function names the file (a report worth logging).
  bool names_functions() const noexcept;
  // Whether a new content was refused for some function (worth a warning).
  bool refused() const noexcept { return !kept.empty() || !pinned_elsewhere.empty(); }
  // One log line: "plugin /p/echo.so written (sha256 ab..): redeployed echo, echo2".
  std::string to_string() const;
};

// Applies one change of `file` to the functions of `cluster` that name it
// (compared as absolute, lexically normal paths). Never throws for a file
// problem: the report carries it.
PluginReloadReport apply_plugin_change(EdgeCluster& cluster, const std::filesystem::path& file,
                                       PluginFileChange change);

// Watches a plugin directory and applies every change to the cluster.
//
// Thread-safety: as PluginWatcher; `report` runs on the watcher's thread.
// Lifetime: the cluster must outlive this object (or stop() it first).
class PluginHotReload {
 public:
  using Report = std::function<void(const PluginReloadReport&)>;

  // Throws std::invalid_argument when the cluster has no PluginStore.
  PluginHotReload(EdgeCluster& cluster, std::filesystem::path plugin_dir, Report report,
                  PluginWatcherOptions options = {});
  ~PluginHotReload();
  PluginHotReload(const PluginHotReload&) = delete;
  PluginHotReload& operator=(const PluginHotReload&) = delete;

  // See PluginWatcher::start / stop.
  void start();
  void stop();
  const std::filesystem::path& plugin_dir() const noexcept;

 private:
  std::unique_ptr<PluginWatcher> watcher_;
};

}  // namespace edge
