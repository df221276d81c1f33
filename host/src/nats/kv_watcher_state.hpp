// KvWatcher's shared state (internal: includes nats.h; made by
// KeyValueBucket::watch, run by the watcher's thread).
#pragma once

#include <nats/nats.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "nats/kv_watcher.hpp"
#include "nats/nats_client.hpp"

namespace edge::nats {

// The watcher has a connection of its own. In libnats 3.4.1, destroying a
// watcher (kvWatcher_Destroy, kvWatcher_Stop) unsubscribes and deletes its
// ordered consumer, and jsSub_deleteConsumer uses the consumer's name after
// releasing the subscription's lock, while the thread that re-creates an
// ordered consumer after a reconnect frees that name: a use after free
// (ASan and TSan both caught it in kv_bucket_test's restart case). Closing
// the watcher's own connection first ends its subscription without an
// unsubscribe, so libnats never takes that path (the server drops the
// ephemeral consumer with the connection), and it wakes kvWatcher_Next.
struct KvWatcher::State {
  ~State();

  std::unique_ptr<NatsClient> connection;  // OWNERSHIP: owned, closed first
  jsCtx* jetstream = nullptr;              // OWNERSHIP: owned, on `connection`
  kvStore* store = nullptr;                // OWNERSHIP: owned, bound to the bucket
  kvWatcher* watcher = nullptr;            // OWNERSHIP: owned; destroyed after the thread joined
  KvWatchHandler handler;
  std::string description;  // "keys \"x.>\" of bucket \"b\"", for messages
  std::thread thread;       // runs run()

  mutable std::mutex mutex;
  mutable std::condition_variable replayed_changed;
  bool replayed = false;              // guarded by mutex
  std::atomic<bool> stopping{false};  // the destructor is ending the watch
  std::string failure;                // guarded by mutex

  // The watcher's thread: kvWatcher_Next until the connection closes.
  void run();
  // Closes the connection, joins the thread, then frees the libnats objects.
  void stop() noexcept;
};

}  // namespace edge::nats
