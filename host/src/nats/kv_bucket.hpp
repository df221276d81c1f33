// A JetStream key-value bucket: the cluster's desired state, written with
// compare-and-swap on the revision.
//
// Every write gets a revision (the bucket stream's sequence number, shared
// by all keys of the bucket, so revisions only grow). update() writes only if
// the key's latest revision is still the one the caller read: of two writers
// that read the same revision exactly one wins, the other gets
// KvConflictError and must re-read.
//
// Thread-safety: every method may be called from any thread concurrently.
// OWNERSHIP: borrows the NatsClient, which must outlive the bucket and its
// watchers.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "nats/kv_watcher.hpp"
#include "nats/nats_client.hpp"
#include "nats/nats_error.hpp"

namespace edge::nats {

enum class KvStorage { File, Memory };

struct KvBucketOptions {
  std::string name;  // A-Z a-z 0-9 _ - only
  int history = 1;   // revisions kept per key, 1 to 64
  KvStorage storage = KvStorage::File;
  int replicas = 1;  // copies in a JetStream cluster (1 on a single server)
  // Bound on each JetStream API call and each write's acknowledgement.
  std::chrono::milliseconds timeout{5000};
};

struct KvEntry {
  std::string value;
  std::uint64_t revision = 0;
};

class KeyValueBucket {
 public:
  // Binds to the bucket, creating it if it does not exist. An existing bucket
  // with a different configuration is an error (the server refuses it).
  // Throws NatsError naming the bucket.
  KeyValueBucket(NatsClient& client, const KvBucketOptions& options);
  ~KeyValueBucket();
  KeyValueBucket(const KeyValueBucket&) = delete;
  KeyValueBucket& operator=(const KeyValueBucket&) = delete;

  const std::string& name() const noexcept { return name_; }

  // The latest value, or nullopt if the key was never written or is deleted.
  std::optional<KvEntry> get(std::string_view key);
  // Writes unconditionally; returns the new revision.
  std::uint64_t put(std::string_view key, std::string_view value);
  // Writes only if the key does not exist (or is deleted); returns the new
  // revision. KvConflictError if it exists.
  std::uint64_t create(std::string_view key, std::string_view value);
  // Writes only if the key's latest revision is `expected_revision`; returns
  // the new revision. KvConflictError (naming the key and the expected
  // revision) if another write came first. expected_revision 0 is refused:
  // that is create().
  std::uint64_t update(std::string_view key, std::string_view value,
                       std::uint64_t expected_revision);
  // Deletes the key (a delete marker: watchers see it; history is kept).
  void erase(std::string_view key);
  // The keys that currently have a value (deleted keys are left out).
  std::vector<std::string> keys();

  // Watches `keys` (a key, or a pattern with the NATS wildcards * and >).
  // The watcher first replays the latest entry of every matching key
  // (deleted ones included, as deletes), then reports each change as it
  // happens. See KvWatcher for when the replay is over.
  [[nodiscard]] KvWatcher watch(std::string_view keys, KvWatchHandler handler);

 private:
  struct Impl;  // kv_bucket.cpp
  std::string name_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edge::nats
