// PluginWatcher: reports plugin files (*.so) that appear, change or go away
// in one directory, using inotify.
//
// A copy in progress fires many events; a change is reported once, after the
// file has been quiet for `settle` (closed by its writer, or `open_settle`
// while a writer still has it open) and its size and times stopped changing,
// so the callback sees finished files: `cp new.so plugins/x.so` and
// `mv new.so plugins/x.so` are each one Written report. A change to a
// plugin's detached signature x.so.sig is reported as a change of x.so (if
// x.so exists, Written). Other files whose names do not end in ".so" are
// ignored (write a temporary name, then mv it into place). If the directory
// itself is removed the watcher keeps trying to watch it again, and reports
// every plugin file in it when it is back; after an event-queue overflow it
// reports every plugin file in it.
//
// Thread-safety: start() and stop() are for one controlling thread. The
// callback runs on the watcher's own thread, one report at a time; it must
// not call stop(). An exception it throws is dropped (report errors inside).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string_view>

namespace edge {

enum class PluginFileChange : std::uint8_t {
  Written,  // created, rewritten, or moved into place: the file exists now
  Removed,  // deleted or moved away: the file does not exist now
};
std::string_view to_string(PluginFileChange change) noexcept;

struct PluginWatcherOptions {
  // Quiet time after the last event before a file is reported.
  std::chrono::milliseconds settle{100};
  // The same for a file still open for writing (written to, not closed):
  // a copy that stalls is not reported half-written; a writer that never
  // closes the file delays its report by this much.
  std::chrono::milliseconds open_settle{5000};
};

class PluginWatcher {
 public:
  using Callback = std::function<void(const std::filesystem::path& file, PluginFileChange change)>;

  PluginWatcher(std::filesystem::path directory, Callback callback,
                PluginWatcherOptions options = {});
  // Stops the watcher.
  ~PluginWatcher();
  PluginWatcher(const PluginWatcher&) = delete;
  PluginWatcher& operator=(const PluginWatcher&) = delete;

  // Starts watching on a new thread. Throws std::system_error naming the
  // directory when it cannot be watched (missing, not a directory, inotify
  // limits). Calling it while running does nothing.
  void start();
  // Stops the thread; no callback runs once it returns. Idempotent.
  void stop();

  const std::filesystem::path& directory() const noexcept;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace edge
