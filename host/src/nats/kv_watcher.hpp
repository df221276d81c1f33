// Watching a key-value bucket: a thread that reports every change of the
// watched keys to a handler, for as long as the KvWatcher lives.
//
// A watcher starts with a replay: the latest entry of every matching key
// (deletes included), then a "caught up" moment, then live changes. libnats
// marks the end of the replay with an empty entry; here it sets replayed()
// and wakes wait_until_replayed(). A bucket with no matching key is caught up
// at once.
//
// OWNERSHIP: the watcher owns its thread and a connection of its own (same
// URLs and settings as the bucket's client; see kv_watcher_state.hpp for
// why); the destructor closes the connection and joins the thread, so the
// handler is never called after the KvWatcher is gone. Do not
// destroy a KvWatcher from inside its own handler (it would join itself).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace edge::nats {

struct KvChange {
  std::string_view key;
  std::string_view value;  // empty for a delete
  std::uint64_t revision = 0;
  bool deleted = false;  // a delete or a purge
};

// Called on the watcher's own thread, one change at a time, in revision
// order. The views are valid only during the call. Must not throw (an
// exception is caught and dropped).
using KvWatchHandler = std::function<void(const KvChange&)>;

class KvWatcher {
 public:
  struct State;  // kv_watcher.cpp

  KvWatcher() noexcept;
  explicit KvWatcher(std::unique_ptr<State> state) noexcept;
  ~KvWatcher();
  KvWatcher(KvWatcher&& other) noexcept;
  KvWatcher& operator=(KvWatcher&& other) noexcept;
  KvWatcher(const KvWatcher&) = delete;
  KvWatcher& operator=(const KvWatcher&) = delete;

  // The initial replay has been handed to the handler.
  bool replayed() const noexcept;
  // Waits until replayed(); false if `timeout` passed first.
  bool wait_until_replayed(std::chrono::milliseconds timeout) const;
  // Why the watch ended early (the connection was closed, the bucket was
  // deleted), or empty while it is watching.
  std::string failure() const;

 private:
  std::unique_ptr<State> state_;
};

}  // namespace edge::nats
