// Writes the controller's desired state into the key-value bucket, from a
// thread of its own: the cluster decides placements under its lock and must
// never wait for the network there, and a write that fails (NATS is down) is
// kept and retried until it lands, so no desired state is lost.
//
// Every write is a compare-and-swap on the revision this writer last saw for
// the key (create for a new key). A conflict means someone else (another
// controller, an operator with the nats CLI) wrote the key meanwhile: it is
// logged as an error naming the key and both revisions, the writer reads
// the key again and writes its own value on top only after that read, so
// nothing is overwritten unseen. A value equal to what the key holds is not
// written again (no new revision, no needless reconcile on the node).
//
// Thread-safety: every method may be called from any thread at once.
#pragma once

#include "log/logger.hpp"
#include "nats/kv_bucket.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace edge::fleet {

class DesiredStateWriter {
 public:
  // `bucket` and `logger` must outlive the writer.
  DesiredStateWriter(nats::KeyValueBucket& bucket, const log::Logger& logger,
                     std::chrono::milliseconds retry_wait = std::chrono::milliseconds{500});
  ~DesiredStateWriter();  // stops; writes still queued are logged as lost
  DesiredStateWriter(const DesiredStateWriter&) = delete;
  DesiredStateWriter& operator=(const DesiredStateWriter&) = delete;

  // What the bucket holds, as read at start (skips rewriting equal values).
  // Call before the first put or erase.
  void seed(const std::string& key, std::string value, std::uint64_t revision);
  // Queues a write; a later put or erase of the same key replaces it. The
  // value is produced on the writer's thread, when it is written.
  void put(const std::string& key, std::function<std::string()> value);
  void erase(const std::string& key);

  // Waits until nothing is queued; false if `timeout` passed first.
  bool wait_until_written(std::chrono::milliseconds timeout);
  std::size_t queued() const;
  // Writes refused by compare-and-swap since start (for metrics and tests).
  std::uint64_t conflicts() const;

 private:
  struct Pending {
    std::function<std::string()> value;  // empty: erase
  };
  struct Known {
    std::string value;
    std::uint64_t revision = 0;
  };
  void run();
  // True once the operation landed (or needs no write).
  bool apply(const std::string& key, const Pending& pending);

  nats::KeyValueBucket& bucket_;
  const log::Logger& logger_;
  const std::chrono::milliseconds retry_wait_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::string, Pending> queue_;  // guarded by mutex_
  std::map<std::string, Known> known_;    // writer thread only (after seeding)
  std::uint64_t conflicts_ = 0;           // guarded by mutex_
  bool busy_ = false;                     // the thread holds an item; guarded by mutex_
  bool stopping_ = false;                 // guarded by mutex_
  std::thread thread_;
};

}  // namespace edge::fleet
