// Makes a node host's local nodes run what the controller's desired state
// says (docs/design/cluster-over-nats.md, "Plugin sync"): each change of a
// desired-state key is applied on one thread of its own, so a slow fetch
// never holds up the KV watcher that reported it.
//
// A put decodes the DesiredCopy; unless `<artifacts>/<sha256>.so` is already
// there (written only after verification) the copy turns Syncing and the
// artifact is fetched, verified and written; then the function is assigned
// to the node with that file as its plugin, and the copy is Ready. Any
// failure (bytes that fail verification, a DeploymentError from assign, a
// value that is not a DesiredCopy) makes the copy Failed with the message,
// takes the function off the node, and is logged at error level. A fetch
// that found no holder answering (the controller is not up yet, the network
// is cut) leaves the copy Syncing with the reason. Both fetch failures are
// tried again on their own, after 2 s, then twice as long each time up to
// a minute, until the key changes. A put that changes neither the
// content nor the definition of a Ready copy does nothing. A delete
// unassigns the function and forgets the copy.
//
// Changes to one key that queue up while an earlier one is being applied are
// merged: only the latest is applied.
//
// Thread-safety: enqueue, copy and copies_of may be called from any thread.
// OWNERSHIP: borrows the client, cluster and directory, which must outlive it.
#pragma once

#include "fleet/agent_log.hpp"
#include "fleet/artifact_directory.hpp"
#include "fleet/artifact_transfer.hpp"
#include "fleet/protocol.hpp"
#include "fleet/subjects.hpp"
#include "nats/kv_watcher.hpp"
#include "nats/nats_client.hpp"

#include <edge/cluster.hpp>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace edge::fleet {

// How one desired copy is doing on its node.
struct CopyStatus {
  std::string function_id;
  std::string sha256;  // empty only for a value that could not be read
  CopyState state = CopyState::Syncing;
  std::string error;       // why Failed
  std::string definition;  // the applied definition (protocol JSON), to spot a no-op
};

class DesiredStateReconciler {
 public:
  // Told, on the reconcile thread, of every artifact a copy uses (fetched
  // just now or found in the directory), so that the host can serve it.
  using HeldArtifact =
      std::function<void(const std::string& sha256, const std::filesystem::path& file)>;

  DesiredStateReconciler(nats::NatsClient& client, Subjects subjects, EdgeCluster& cluster,
                         const ArtifactDirectory& artifacts, FetchOptions fetch, LogSink log,
                         HeldArtifact on_held = {});
  // Stops (see stop()).
  ~DesiredStateReconciler();
  DesiredStateReconciler(const DesiredStateReconciler&) = delete;
  DesiredStateReconciler& operator=(const DesiredStateReconciler&) = delete;

  // Starts the reconcile thread; changes enqueued before wait for it.
  void start();
  // Ends the thread after the change being applied (a fetch in progress
  // runs to its end or its chunk timeouts); queued changes are dropped.
  void stop() noexcept;

  // A change of one of `node_id`'s desired-state keys, as the watcher
  // reported it. A key that names no function of that node is logged and
  // dropped.
  void enqueue(std::string_view node_id, const nats::KvChange& change);

  std::optional<CopyStatus> copy(std::string_view node_id, std::string_view function_id) const;
  // The node's copies, sorted by function id.
  std::vector<CopyStatus> copies_of(std::string_view node_id) const;

 private:
  using CopyKey = std::pair<std::string, std::string>;  // node id, function id
  struct Change {
    std::string value;
    bool deleted = false;
  };

  void run();
  void apply(const CopyKey& key, const Change& change);
  void apply_put(const CopyKey& key, const std::string& value);
  void apply_delete(const CopyKey& key);
  void fail(const CopyKey& key, std::string sha256, const std::string& message);
  // Applies `value` again later (a fetch that failed); returns the delay.
  std::chrono::seconds retry_later(const CopyKey& key, const std::string& value);
  struct Retry {
    std::string value;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void set(const CopyKey& key, CopyStatus status);

  nats::NatsClient& client_;
  const Subjects subjects_;
  EdgeCluster& cluster_;
  const ArtifactDirectory& artifacts_;
  const FetchOptions fetch_;
  const LogSink log_;
  const HeldArtifact on_held_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<CopyKey, Change> pending_;     // guarded by mutex_: the latest change per key
  std::deque<CopyKey> order_;             // guarded by mutex_: keys of pending_, oldest first
  bool stopping_ = false;                 // guarded by mutex_
  std::map<CopyKey, CopyStatus> copies_;  // guarded by mutex_
  std::map<CopyKey, Retry> retries_;      // guarded by mutex_: fetches to try again
  std::thread thread_;
};

}  // namespace edge::fleet
