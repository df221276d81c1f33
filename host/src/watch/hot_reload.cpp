#include <edge/errors.hpp>
#include <edge/hot_reload.hpp>
#include <edge/plugin_store.hpp>

#include "plugin/security_check.hpp"
#include "plugin/sha256.hpp"

#include <optional>
#include <stdexcept>
#include <system_error>

namespace edge {
namespace {

std::filesystem::path normal_absolute(const std::filesystem::path& file) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::absolute(file, error);
  return (error ? file : absolute).lexically_normal();
}

// The functions whose definition names `file`.
std::vector<std::string> functions_naming(const EdgeCluster& cluster,
                                          const std::filesystem::path& file) {
  const std::filesystem::path wanted = normal_absolute(file);
  std::vector<std::string> ids;
  for (const std::string& id : cluster.function_ids()) {
    const std::optional<EdgeFunction> function = cluster.function(id);
    if (function && !function->plugin.empty() && normal_absolute(function->plugin) == wanted) {
      ids.push_back(id);
    }
  }
  return ids;
}

// Why the file's new content must not replace what the functions run, or
// nullopt when it may. The trial goes through the store, so it makes the
// checks of a cold start (security policy, ELF, entry symbol, ABI version,
// descriptor) on the very copy a cold start would map, and a content that
// fails them is quarantined by its hash as a cold start would.
//
// It does not run init: init runs with one function's environment and may
// claim what the running version holds (a port, a device, a lock file), so a
// trial init beside the serving version could fail for reasons the real cold
// start would not have, or disturb the version still serving. An init that
// fails after the switch is quarantined per function at that cold start, as
// before. Without a store there is no trial: loading by path, the dynamic
// loader would hand back the already-mapped old library and prove nothing.
std::optional<std::string> trial_refusal(EdgeCluster& cluster, const std::filesystem::path& file,
                                         const std::vector<std::string>& functions) {
  const std::shared_ptr<PluginStore>& store = cluster.plugin_store();
  if (!store || functions.empty()) return std::nullopt;
  try {
    store->inspect(file);
  } catch (const PluginError& error) {
    return std::string(error.what());
  }
  return std::nullopt;
}

std::string join(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) text += (text.empty() ? "" : ", ") + id;
  return text;
}

}  // namespace

bool PluginReloadReport::names_functions() const noexcept {
  return !redeployed.empty() || !unchanged.empty() || !still_warm.empty() || !not_loaded.empty() ||
         !kept.empty() || !pinned_elsewhere.empty();
}

std::string PluginReloadReport::to_string() const {
  std::string line = "plugin " + file.string() + " " + std::string(edge::to_string(change));
  if (!sha256.empty()) line += " (sha256 " + sha256 + ")";
  if (!error.empty()) {
    if (kept.empty()) return line + ": " + error;
    return line + ": replacement refused, " + join(kept) + " keep their current version: " + error;
  }
  if (!names_functions()) return line + ": no function uses it";
  std::string parts;
  const auto add = [&](const char* what, const std::vector<std::string>& ids) {
    if (!ids.empty()) parts += (parts.empty() ? "" : "; ") + std::string(what) + " " + join(ids);
  };
  add("redeployed", redeployed);
  add("unchanged", unchanged);
  add("still serving from the old copy", still_warm);
  add("will fail to load until the file is back:", not_loaded);
  for (const std::string& refusal : pin_refusals) {
    parts += (parts.empty() ? "" : "; ") + std::string("not redeployed (pinned): ") + refusal;
  }
  return line + ": " + parts;
}

PluginReloadReport apply_plugin_change(EdgeCluster& cluster, const std::filesystem::path& file,
                                       PluginFileChange change) {
  PluginReloadReport report;
  report.file = file;
  report.change = change;
  const std::vector<std::string> functions = functions_naming(cluster, file);

  if (change == PluginFileChange::Removed) {
    for (const std::string& id : functions) {
      bool warm = false;
      for (const auto& [node, stats] : cluster.function_stats(id)) warm = warm || stats.is_warm;
      (warm ? report.still_warm : report.not_loaded).push_back(id);
    }
    return report;
  }

  try {
    // Read again, not from the store's memory: a rewrite within one
    // timestamp tick can keep the size and times of the old file.
    report.sha256 = cluster.plugin_store() ? cluster.plugin_store()->sha256(file, /*reread=*/true)
                                           : sha256_of_file(file);
  } catch (const std::exception& error) {
    report.error = error.what();  // gone again, or unreadable: a later event will tell
    return report;
  }
  if (const std::optional<std::string> refusal = trial_refusal(cluster, file, functions)) {
    report.error = *refusal;
    report.kept = functions;
    return report;
  }
  for (const std::string& id : functions) {
    const std::optional<EdgeFunction> function = cluster.function(id);
    if (function && !function->plugin_sha256.empty() && function->plugin_sha256 != report.sha256) {
      report.pinned_elsewhere.push_back(id);
      report.pin_refusals.push_back(
          pin_mismatch_message(file, report.sha256, id, function->plugin_sha256));
      continue;
    }
    // Without a store, loaded copies have no hash: every copy is replaced.
    const std::size_t replaced = cluster.redeploy_unless_running(id, report.sha256);
    (replaced > 0 ? report.redeployed : report.unchanged).push_back(id);
  }
  return report;
}

PluginHotReload::PluginHotReload(EdgeCluster& cluster, std::filesystem::path plugin_dir,
                                 Report report, PluginWatcherOptions options) {
  if (!cluster.plugin_store()) {
    throw std::invalid_argument(
        "hot reload needs a cluster with a PluginStore (ClusterOptions::plugin_store)");
  }
  watcher_ = std::make_unique<PluginWatcher>(
      std::move(plugin_dir),
      [&cluster, report = std::move(report)](const std::filesystem::path& file,
                                             PluginFileChange change) {
        const PluginReloadReport outcome = apply_plugin_change(cluster, file, change);
        if (report) report(outcome);
      },
      options);
}

PluginHotReload::~PluginHotReload() = default;

void PluginHotReload::start() { watcher_->start(); }
void PluginHotReload::stop() { watcher_->stop(); }
const std::filesystem::path& PluginHotReload::plugin_dir() const noexcept {
  return watcher_->directory();
}

}  // namespace edge
