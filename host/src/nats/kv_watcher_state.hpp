// KvWatcher's shared state (internal: includes nats.h; made by
// KeyValueBucket::watch, run by the watcher's thread).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "nats/kv_watcher.hpp"

namespace edge::nats {

struct KvWatcher::State {
  kvWatcher* watcher = nullptr;  // OWNERSHIP: owned; destroyed after the thread joined
  KvWatchHandler handler;
  std::string description;  // "keys \"x.>\" of bucket \"b\"", for messages
  std::thread thread;       // runs run()

  mutable std::mutex mutex;
  mutable std::condition_variable replayed_changed;
  bool replayed = false;              // guarded by mutex
  std::atomic<bool> stopping{false};  // the destructor ends the watch
  std::string failure;                // guarded by mutex

  // The watcher's thread: kvWatcher_Next until stopped.
  void run();
};

}  // namespace edge::nats
