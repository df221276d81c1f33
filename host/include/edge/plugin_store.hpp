// PluginStore: loads plugins by content, not by path.
//
// A plugin file is hashed (SHA-256) and copied once per hash into a private
// cache directory as <cache>/<sha256>.so, and that copy is what gets mapped.
// So replacing the file (cp over it, or mv a new one into place) never
// touches code that is running, and the dynamic loader never hands back an
// already-mapped stale library for the same path: a new content is a new
// path. A plugin that fails its checks (ELF, ABI, descriptor) is quarantined
// by its hash, one whose init fails by its hash and function id: every later
// load of that content fails at once with the recorded reason, without
// opening the library, until the file's content changes.
//
// Every load and inspect also applies the store's PluginSecurityPolicy (file
// modes, the signature over the copy's bytes) and a load the function's
// SHA-256 pin (PluginInitContext::pinned_sha256). Those refusals are not
// quarantines: the content may be fine, and a fixed mode, a signature that
// arrives or another pin must take effect at the next load.
//
// Thread-safety: every method may be called from any thread at once. Loads
// of different plugins run in parallel (the store's lock is never held while
// a library is opened or initialised).
//
// Lifetime: loaded plugins do not refer to the store; the copies in the
// cache directory may be removed once they are mapped. A store created
// without a cache directory removes its private one when destroyed.
#pragma once

#include <edge/plugin.hpp>
#include <edge/plugin_security.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

class LoadedPlugin;
struct PluginInitContext;

// A plugin content the store refuses to load again.
struct QuarantinedPlugin {
  std::string sha256;
  std::filesystem::path file;  // the file the content was loaded from
  // Set when init failed: only this function is refused (init may depend on
  // the function's environment); empty when the file itself is unusable.
  std::string function_id;
  std::string reason;  // the load error, naming file, hash and cause
  std::chrono::system_clock::time_point since;

  nlohmann::json to_json() const;
};

struct PluginStoreOptions {
  // Where the content-addressed copies go. Created (0700) if missing, and
  // then removed with the store; otherwise only the store's own copies are
  // removed. Empty: a private directory made with mkdtemp under the system
  // temporary directory. It must not be mounted noexec (the copies are
  // mapped executable): the constructor checks.
  std::filesystem::path cache_dir;
  // Called after a plugin is quarantined, on the loading thread, with no
  // lock of the store held (edge-host logs it).
  std::function<void(const QuarantinedPlugin&)> on_quarantine;
  // Checked at every load and inspect. The trusted keys are read once, by the
  // constructor.
  PluginSecurityPolicy security;
};

class PluginStore {
 public:
  // Throws edge::Error naming the directory when the cache directory cannot
  // be created or is on a noexec mount, or naming a trusted key file that is
  // not an Ed25519 public key.
  explicit PluginStore(PluginStoreOptions options = {});
  ~PluginStore();
  PluginStore(const PluginStore&) = delete;
  PluginStore& operator=(const PluginStore&) = delete;

  const std::filesystem::path& cache_dir() const noexcept;

  // The SHA-256 of `file`'s current content. Remembered per (path, device,
  // inode, size, mtime, ctime), so an unchanged file is not read again;
  // `reread` ignores what is remembered (the watcher uses it: a rewrite within
  // one timestamp tick keeps size and times). Throws PluginError when the
  // file is missing or unreadable.
  std::string sha256(const std::filesystem::path& file, bool reread = false);

  // The quarantine that refuses `function_id`'s loads of `file` now, if any.
  // Uses only the remembered hash of the file (a stat, never a read).
  std::optional<QuarantinedPlugin> quarantine_of(const std::filesystem::path& file,
                                                 std::string_view function_id) const;
  // Every quarantine, oldest first.
  std::vector<QuarantinedPlugin> quarantined() const;
  // Forgets the quarantines of a content (the operator fixed what init
  // needed). False if none.
  bool lift_quarantine(std::string_view sha256);

  // What the file's current content says about itself (inspect_plugin), read
  // once per content from its copy and remembered: asking again for an
  // unchanged file costs a stat. info.file is `file`. Throws PluginError as
  // inspect_plugin does (and quarantines the content, as load does), when the
  // content is quarantined, or when the security policy refuses the file.
  // Runs no init: hot reload uses it to try a replacement before switching.
  PluginInfo inspect(const std::filesystem::path& file);

  const PluginSecurityPolicy& security_policy() const noexcept;

  // Libraries the store opened (successfully or not) since it was created;
  // a refusal from quarantine opens none.
  std::uint64_t libraries_opened() const noexcept;

  // Host-internal (EdgeRuntime's cold start): loads the current content of
  // `file` from its cached copy, checks and initialises it. Throws
  // PluginError naming the file, the hash and the reason: the file is missing,
  // its content is not the one context.pinned_sha256 pins, the security
  // policy refuses it, its content is quarantined, or it failed now (and is
  // quarantined, unless the file changed while it was being copied).
  std::unique_ptr<LoadedPlugin> load(const std::filesystem::path& file,
                                     const PluginInitContext& context);

  // Host-internal (process isolation): the content copy of `file` that a
  // worker process loads, kept in the cache while the pin lives (the pin
  // keeps the store alive). Throws PluginError as load() does for a missing
  // or quarantined file, a content other than `pinned_sha256` (when not
  // empty), or one the security policy refuses.
  struct ContentPin {
    std::filesystem::path copy;
    std::string sha256;
    std::shared_ptr<PluginStore> store;
    ContentPin() = default;
    ContentPin(const ContentPin&) = delete;
    ContentPin& operator=(const ContentPin&) = delete;
    ~ContentPin();
  };
  static std::shared_ptr<const ContentPin> pin_content(std::shared_ptr<PluginStore> store,
                                                       const std::filesystem::path& file,
                                                       std::string_view function_id,
                                                       std::string_view pinned_sha256);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edge
