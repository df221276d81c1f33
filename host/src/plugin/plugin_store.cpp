#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>

#include "plugin/content_copy.hpp"
#include "plugin/file_identity.hpp"
#include "plugin/loaded_plugin.hpp"
#include "plugin/security_check.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <system_error>
#include <vector>

namespace edge {
namespace {

// Quarantines kept at most; the oldest go first. Each is one distinct bad
// content, so this bounds memory when bad builds keep arriving.
constexpr std::size_t kMaxQuarantines = 256;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

[[noreturn]] void refuse(const std::filesystem::path& file, const std::string& reason) {
  throw PluginError(plugin_label(PluginSource{file, {}}) + ": " + reason);
}

FileIdentity identity_or_refuse(const std::filesystem::path& file) {
  const std::optional<FileIdentity> identity = identity_of(file);
  if (!identity) {
    if (errno == ENOENT || errno == ENOTDIR) refuse(file, "plugin file not found (no such file)");
    refuse(file, "plugin file cannot be read: " + errno_text(errno));
  }
  return *identity;
}

// What a load error says after "plugin <file> (sha256 <hash>): ".
std::string reason_of(const std::string& message, const PluginSource& source) {
  const std::string prefix = plugin_label(source) + ": ";
  return message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message;
}

std::filesystem::path make_private_directory() {
  std::error_code error;
  std::filesystem::path base = std::filesystem::temp_directory_path(error);
  if (error) base = "/tmp";
  std::string pattern = (base / "edge-plugins-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw Error("cannot create a plugin cache directory under " + base.string() + ": " +
                errno_text(errno));
  }
  return pattern;
}

}  // namespace

nlohmann::json QuarantinedPlugin::to_json() const {
  return {{"sha256", sha256},
          {"file", file.string()},
          {"function_id", function_id},
          {"reason", reason},
          {"since_unix_seconds",
           std::chrono::duration_cast<std::chrono::seconds>(since.time_since_epoch()).count()}};
}

struct PluginStore::State {
  // The hash last seen for a path, and the identity of the file it was read from.
  struct Tracked {
    FileIdentity identity;
    std::string sha256;
  };
  // A current content of a file, with its copy in the cache (pinned: the copy
  // is not collected until unpin()).
  struct Current {
    std::string sha256;
    FileIdentity identity;
    bool stable = true;
  };

  explicit State(PluginStoreOptions store_options)
      : options(std::move(store_options)), security(options.security) {}

  PluginStoreOptions options;
  const PluginSecurityCheck security;  // the trusted keys, read once
  std::filesystem::path cache_dir;
  bool owns_cache_dir = false;
  std::atomic<std::uint64_t> opened{0};

  mutable std::mutex mutex;
  std::map<std::filesystem::path, Tracked> files;  // guarded by mutex
  std::set<std::string, std::less<>> copies;       // hashes copied by us; guarded by mutex
  std::map<std::string, int, std::less<>> pins;    // copies in use by a load; guarded by mutex
  std::vector<QuarantinedPlugin> quarantine;       // oldest first; guarded by mutex
  // What each copied content says about itself, once read; guarded by mutex.
  std::map<std::string, PluginInfo, std::less<>> inspected;

  std::filesystem::path copy_path(std::string_view sha256) const {
    return cache_dir / (std::string(sha256) + ".so");
  }

  const QuarantinedPlugin* find_quarantine(std::string_view sha256,
                                           std::string_view function_id) const {
    for (const QuarantinedPlugin& entry : quarantine) {
      if (entry.sha256 == sha256 &&
          (entry.function_id.empty() || entry.function_id == function_id)) {
        return &entry;
      }
    }
    return nullptr;
  }

  // Removes the copy of `sha256` once no tracked file has it as its content
  // and no load is using it. Mapped libraries do not need their file:
  // unlinking is safe. Linear in the tracked files, which are few.
  void collect(const std::string& sha256) {
    if (copies.count(sha256) == 0 || pins.count(sha256) != 0) return;
    for (const auto& [path, tracked] : files) {
      if (tracked.sha256 == sha256) return;
    }
    ::unlink(copy_path(sha256).c_str());
    copies.erase(sha256);
    inspected.erase(sha256);
  }

  // Forgets what `file` held (gone, or caught mid-write).
  void untrack(const std::filesystem::path& file) {
    const auto tracked = files.find(file);
    if (tracked == files.end()) return;
    const std::string sha256 = tracked->second.sha256;
    files.erase(tracked);
    collect(sha256);
  }

  void unpin(const std::string& sha256) {
    std::lock_guard lock(mutex);
    if (auto pin = pins.find(sha256); pin != pins.end() && --pin->second == 0) pins.erase(pin);
    collect(sha256);
  }
  // Unpins a content pinned by current(..., pin = true) when it goes out of scope.
  struct Unpin {
    State& state;
    const std::string& sha256;
    ~Unpin() { state.unpin(sha256); }
  };

  // The file's content now, copied into the cache if it is not there yet.
  // Reads the file only when its identity changed (or `reread`).
  Current current(const std::filesystem::path& file, bool reread, bool pin) {
    FileIdentity identity;
    try {
      identity = identity_or_refuse(file);
    } catch (const PluginError&) {
      std::lock_guard lock(mutex);
      untrack(file);
      throw;
    }
    if (!reread) {
      std::lock_guard lock(mutex);
      const auto tracked = files.find(file);
      if (tracked != files.end() && tracked->second.identity == identity &&
          copies.count(tracked->second.sha256) != 0) {
        // A cleaner of temporary files (systemd-tmpfiles) may have removed
        // the copy of a long-lived host: copy again rather than fail.
        if (::access(copy_path(tracked->second.sha256).c_str(), R_OK) == 0) {
          if (pin) ++pins[tracked->second.sha256];
          return {tracked->second.sha256, identity, true};
        }
        copies.erase(tracked->second.sha256);
      }
    }
    ContentCopy copy;
    try {
      copy = copy_with_hash(file, cache_dir);  // the slow part, outside the lock
    } catch (const std::system_error& error) {
      if (error.code() == std::errc::no_such_file_or_directory) {
        refuse(file, "plugin file not found (no such file)");
      }
      refuse(file, std::string("cannot copy into the plugin cache: ") + error.what());
    }
    std::lock_guard lock(mutex);
    if (copies.count(copy.sha256) != 0) {
      ::unlink(copy.temporary.c_str());  // another load copied the same content first
    } else {
      if (::rename(copy.temporary.c_str(), copy_path(copy.sha256).c_str()) != 0) {
        const int error = errno;
        ::unlink(copy.temporary.c_str());
        refuse(file, "cannot store its copy in the plugin cache " + cache_dir.string() + ": " +
                         errno_text(error));
      }
      copies.insert(copy.sha256);
    }
    if (pin) ++pins[copy.sha256];
    // A file caught mid-write is not remembered: the next load reads it again.
    std::string previous;
    if (const auto tracked = files.find(file); tracked != files.end())
      previous = tracked->second.sha256;
    if (copy.stable) {
      files[file] = Tracked{copy.identity, copy.sha256};
    } else {
      files.erase(file);
    }
    if (!previous.empty()) collect(previous);
    collect(copy.sha256);  // when neither tracked nor pinned (sha256() of a changing file)
    return {copy.sha256, copy.identity, copy.stable};
  }

  // Records a quarantine; returns it for the callback.
  QuarantinedPlugin add_quarantine(const std::filesystem::path& file, const std::string& sha256,
                                   std::string_view function_id, std::string reason) {
    QuarantinedPlugin entry{sha256, file, std::string(function_id), std::move(reason),
                            std::chrono::system_clock::now()};
    std::lock_guard lock(mutex);
    if (quarantine.size() >= kMaxQuarantines) quarantine.erase(quarantine.begin());
    quarantine.push_back(entry);
    return entry;
  }

  // The policy's checks on `file`, against the bytes that will be mapped.
  void check_security(const std::filesystem::path& file, const Current& current) const {
    security.check(file, copy_path(current.sha256),
                   plugin_label(PluginSource{file, current.sha256}));
  }

  // A load or inspect of `current` failed with `error`: quarantines the
  // content when the failure is its own, and rethrows with what happened.
  [[noreturn]] void judge_failure(const std::filesystem::path& file, const Current& current,
                                  std::string_view function_id, const PluginError& error) {
    // A content caught mid-write is not judged: the finished file will have
    // another hash, and quarantining the fragment would only add noise.
    const std::optional<FileIdentity> now = identity_of(file);
    if (!current.stable || !now || !(*now == current.identity)) {
      throw PluginError(std::string(error.what()) +
                        " (the file changed while it was loaded; try again)");
    }
    // Nor is a content whose copy vanished under the loader (not its fault).
    if (::access(copy_path(current.sha256).c_str(), R_OK) != 0) {
      std::lock_guard lock(mutex);
      copies.erase(current.sha256);
      throw PluginError(error.what());
    }
    const bool init_failed = dynamic_cast<const PluginInitError*>(&error) != nullptr;
    const QuarantinedPlugin entry =
        add_quarantine(file, current.sha256, init_failed ? function_id : "",
                       reason_of(error.what(), PluginSource{file, current.sha256}));
    if (options.on_quarantine) {
      try {
        options.on_quarantine(entry);
      } catch (...) {
        // A failing log line must not replace the load error the caller needs.
      }
    }
    throw PluginError(std::string(error.what()) +
                      " (quarantined until the file's content changes)");
  }
};

PluginStore::PluginStore(PluginStoreOptions options)
    : state_(std::make_unique<State>(std::move(options))) {
  State& state = *state_;
  if (state.options.cache_dir.empty()) {
    state.cache_dir = make_private_directory();
    state.owns_cache_dir = true;
  } else {
    state.cache_dir = std::filesystem::absolute(state.options.cache_dir);
    std::error_code error;
    if (!std::filesystem::exists(state.cache_dir, error)) {
      std::filesystem::create_directories(state.cache_dir, error);
      if (error) {
        throw Error("cannot create the plugin cache directory " + state.cache_dir.string() + ": " +
                    error.message());
      }
      std::filesystem::permissions(state.cache_dir, std::filesystem::perms::owner_all, error);
      state.owns_cache_dir = true;
    } else if (!std::filesystem::is_directory(state.cache_dir, error)) {
      throw Error("the plugin cache directory " + state.cache_dir.string() + " is not a directory");
    }
  }
  if (::access(state.cache_dir.c_str(), W_OK | X_OK) != 0) {
    throw Error("the plugin cache directory " + state.cache_dir.string() +
                " is not writable: " + errno_text(errno));
  }
  struct statvfs mount {};
  if (::statvfs(state.cache_dir.c_str(), &mount) == 0 && (mount.f_flag & ST_NOEXEC) != 0) {
    const std::filesystem::path directory = state.cache_dir;
    if (state.owns_cache_dir) {
      std::error_code ignored;
      std::filesystem::remove_all(directory, ignored);
    }
    throw Error("the plugin cache directory " + directory.string() +
                " is on a filesystem mounted noexec: plugins copied there cannot be mapped; "
                "choose another directory");
  }
}

PluginStore::~PluginStore() {
  std::error_code ignored;
  if (state_->owns_cache_dir) {
    std::filesystem::remove_all(state_->cache_dir, ignored);
    return;
  }
  for (const std::string& sha256 : state_->copies) ::unlink(state_->copy_path(sha256).c_str());
}

const std::filesystem::path& PluginStore::cache_dir() const noexcept { return state_->cache_dir; }

std::string PluginStore::sha256(const std::filesystem::path& file, bool reread) {
  return state_->current(file, reread, /*pin=*/false).sha256;
}

std::optional<QuarantinedPlugin> PluginStore::quarantine_of(const std::filesystem::path& file,
                                                            std::string_view function_id) const {
  const std::optional<FileIdentity> identity = identity_of(file);
  if (!identity) return std::nullopt;
  std::lock_guard lock(state_->mutex);
  const auto tracked = state_->files.find(file);
  if (tracked == state_->files.end() || !(tracked->second.identity == *identity))
    return std::nullopt;
  const QuarantinedPlugin* entry = state_->find_quarantine(tracked->second.sha256, function_id);
  if (entry == nullptr) return std::nullopt;
  return *entry;
}

std::vector<QuarantinedPlugin> PluginStore::quarantined() const {
  std::lock_guard lock(state_->mutex);
  return state_->quarantine;
}

bool PluginStore::lift_quarantine(std::string_view sha256) {
  std::lock_guard lock(state_->mutex);
  return std::erase_if(state_->quarantine,
                       [&](const QuarantinedPlugin& entry) { return entry.sha256 == sha256; }) != 0;
}

PluginInfo PluginStore::inspect(const std::filesystem::path& file) {
  State& state = *state_;
  const State::Current current = state.current(file, /*reread=*/false, /*pin=*/true);
  const State::Unpin unpin{state, current.sha256};
  const PluginSource source{file, current.sha256};
  state.check_security(file, current);
  {
    std::lock_guard lock(state.mutex);
    if (const auto known = state.inspected.find(current.sha256); known != state.inspected.end()) {
      PluginInfo info = known->second;
      info.file = file;
      return info;
    }
    if (const QuarantinedPlugin* entry = state.find_quarantine(current.sha256, {})) {
      throw PluginError(plugin_label(source) + " is quarantined: " + entry->reason);
    }
  }
  state.opened.fetch_add(1, std::memory_order_relaxed);
  PluginInfo info;
  try {
    info = inspect_plugin(state.copy_path(current.sha256));
  } catch (const PluginError& error) {
    // inspect_plugin named the copy: name the file and its hash, as a load does.
    const std::string prefix =
        plugin_label(PluginSource{state.copy_path(current.sha256), {}}) + ": ";
    const std::string message = error.what();
    state.judge_failure(
        file, current, {},
        PluginError(plugin_label(source) + ": " +
                    (message.rfind(prefix, 0) == 0 ? message.substr(prefix.size()) : message)));
  }
  info.file = file;
  std::lock_guard lock(state.mutex);
  if (state.copies.count(current.sha256) != 0) state.inspected.emplace(current.sha256, info);
  return info;
}

const PluginSecurityPolicy& PluginStore::security_policy() const noexcept {
  return state_->security.policy();
}

std::uint64_t PluginStore::libraries_opened() const noexcept {
  return state_->opened.load(std::memory_order_relaxed);
}

std::unique_ptr<LoadedPlugin> PluginStore::load(const std::filesystem::path& file,
                                                const PluginInitContext& context) {
  State& state = *state_;
  const State::Current current = state.current(file, /*reread=*/false, /*pin=*/true);
  const State::Unpin unpin{state, current.sha256};

  const PluginSource source{file, current.sha256};
  if (!context.pinned_sha256.empty() && context.pinned_sha256 != current.sha256) {
    throw PluginError(pin_mismatch_message(file, current.sha256, std::string(context.function_id),
                                           std::string(context.pinned_sha256)));
  }
  state.check_security(file, current);
  {
    std::lock_guard lock(state.mutex);
    if (const QuarantinedPlugin* entry =
            state.find_quarantine(current.sha256, context.function_id)) {
      std::string scope =
          entry->function_id.empty() ? "" : " for function '" + entry->function_id + "'";
      throw PluginError(plugin_label(source) + " is quarantined" + scope + ": " + entry->reason +
                        " (it is retried when the file's content changes)");
    }
  }

  state.opened.fetch_add(1, std::memory_order_relaxed);
  try {
    return LoadedPlugin::load(state.copy_path(current.sha256), context, source);
  } catch (const PluginError& error) {
    state.judge_failure(file, current, context.function_id, error);
  }
}

}  // namespace edge

namespace edge {

PluginStore::ContentPin::~ContentPin() {
  if (store) store->state_->unpin(sha256);
}

std::shared_ptr<const PluginStore::ContentPin> PluginStore::pin_content(
    std::shared_ptr<PluginStore> store, const std::filesystem::path& file,
    std::string_view function_id, std::string_view pinned_sha256) {
  State& state = *store->state_;
  const State::Current current = state.current(file, /*reread=*/false, /*pin=*/true);
  auto pin = std::make_shared<ContentPin>();
  pin->copy = state.copy_path(current.sha256);
  pin->sha256 = current.sha256;
  pin->store = std::move(store);  // from here on, the pin unpins
  // The checks a cold start in the host makes (load()), on the same copy.
  if (!pinned_sha256.empty() && pinned_sha256 != current.sha256) {
    throw PluginError(pin_mismatch_message(file, current.sha256, std::string(function_id),
                                           std::string(pinned_sha256)));
  }
  state.check_security(file, current);
  std::lock_guard lock(state.mutex);
  if (const QuarantinedPlugin* entry = state.find_quarantine(current.sha256, function_id)) {
    throw PluginError(plugin_label({file, current.sha256}) + " is quarantined: " + entry->reason +
                      " (it is retried when the file's content changes)");
  }
  return pin;
}

}  // namespace edge
