#include "fleet/desired_state_reconciler.hpp"

#include "fleet/json_models.hpp"

#include <edge/errors.hpp>

#include <algorithm>
#include <exception>

namespace edge::fleet {

DesiredStateReconciler::DesiredStateReconciler(nats::NatsClient& client, Subjects subjects,
                                               EdgeCluster& cluster,
                                               const ArtifactDirectory& artifacts,
                                               FetchOptions fetch, LogSink log,
                                               HeldArtifact on_held)
    : client_(client),
      subjects_(std::move(subjects)),
      cluster_(cluster),
      artifacts_(artifacts),
      fetch_(fetch),
      log_(std::move(log)),
      on_held_(std::move(on_held)) {}

DesiredStateReconciler::~DesiredStateReconciler() { stop(); }

void DesiredStateReconciler::start() {
  const std::lock_guard lock(mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { run(); });
}

void DesiredStateReconciler::stop() noexcept {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
    pending_.clear();
    order_.clear();
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DesiredStateReconciler::enqueue(std::string_view node_id, const nats::KvChange& change) {
  std::optional<std::pair<std::string, std::string>> names =
      subjects_.node_and_function_of(change.key);
  if (!names || names->first != node_id) {
    write_log(log_, "error", "desired-state key names no function of this node; ignored",
              {{"node", std::string(node_id)}, {"key", std::string(change.key)}});
    return;
  }
  CopyKey key = std::move(*names);
  {
    const std::lock_guard lock(mutex_);
    if (stopping_) return;
    retries_.erase(key);  // a new value replaces whatever was being retried
    const auto [position, added] =
        pending_.insert_or_assign(key, Change{std::string(change.value), change.deleted});
    if (added) order_.push_back(position->first);
  }
  changed_.notify_all();
}

std::optional<CopyStatus> DesiredStateReconciler::copy(std::string_view node_id,
                                                       std::string_view function_id) const {
  const std::lock_guard lock(mutex_);
  const auto position = copies_.find(CopyKey{std::string(node_id), std::string(function_id)});
  if (position == copies_.end()) return std::nullopt;
  return position->second;
}

std::vector<CopyStatus> DesiredStateReconciler::copies_of(std::string_view node_id) const {
  const std::lock_guard lock(mutex_);
  std::vector<CopyStatus> result;
  // Keys sort by node id first, then function id: one contiguous run.
  for (auto position = copies_.lower_bound(CopyKey{std::string(node_id), std::string()});
       position != copies_.end() && position->first.first == node_id; ++position) {
    result.push_back(position->second);
  }
  return result;
}

void DesiredStateReconciler::run() {
  std::unique_lock lock(mutex_);
  while (true) {
    const auto work = [&] { return stopping_ || !order_.empty(); };
    auto due = std::chrono::steady_clock::time_point::max();
    for (const auto& [key, retry] : retries_) due = std::min(due, retry.due);
    if (due == std::chrono::steady_clock::time_point::max()) {
      changed_.wait(lock, work);
    } else {
      changed_.wait_until(lock, due, work);
    }
    if (stopping_) return;
    // Retries that are due go behind the changes already queued.
    const auto now = std::chrono::steady_clock::now();
    for (auto& [key, retry] : retries_) {
      if (retry.due > now || pending_.count(key) != 0) continue;
      pending_.emplace(key, Change{retry.value, false});
      order_.push_back(key);
      retry.due = std::chrono::steady_clock::time_point::max();  // until it fails again
    }
    if (order_.empty()) continue;
    CopyKey key = std::move(order_.front());
    order_.pop_front();
    const auto position = pending_.find(key);
    Change change = std::move(position->second);
    pending_.erase(position);
    lock.unlock();
    apply(key, change);
    lock.lock();
  }
}

void DesiredStateReconciler::apply(const CopyKey& key, const Change& change) {
  try {
    if (change.deleted) {
      apply_delete(key);
    } else {
      apply_put(key, change.value);
    }
  } catch (const std::exception& error) {
    // apply_put turns its own failures into a Failed copy; this is what is
    // left (an unassign that threw), and the thread must go on.
    write_log(log_, "error", "applying a desired-state change failed",
              {{"node", key.first}, {"function", key.second}, {"error", error.what()}});
  }
}

void DesiredStateReconciler::apply_put(const CopyKey& key, const std::string& value) {
  const auto& [node_id, function_id] = key;
  DesiredCopy desired;
  try {
    desired = decode_desired(value);
  } catch (const ProtocolError& error) {
    fail(key, {}, error.what());
    return;
  }
  const std::string sha256 = desired.artifact.sha256;
  if (desired.function.id != function_id) {
    fail(key, sha256,
         "the desired-state key names function '" + function_id + "' but its value defines '" +
             desired.function.id + "'");
    return;
  }
  const std::string definition = function_to_json(desired.function).dump();
  if (const std::optional<CopyStatus> current = copy(node_id, function_id);
      current && current->state == CopyState::Ready && current->sha256 == sha256 &&
      current->definition == definition) {
    return;
  }

  try {
    std::optional<std::filesystem::path> file = artifacts_.find(sha256);
    if (!file) {
      set(key, {function_id, sha256, CopyState::Syncing, {}, definition});
      write_log(log_, "info", "fetching a plugin artifact",
                {{"node", node_id},
                 {"function", function_id},
                 {"sha256", sha256},
                 {"size", std::to_string(desired.artifact.size)}});
      const std::string bytes = fetch_artifact(client_, subjects_, desired.artifact, fetch_);
      file = artifacts_.write(sha256, bytes);
    }
    if (on_held_) on_held_(sha256, *file);
    EdgeFunction function = std::move(desired.function);
    function.plugin = *file;
    function.plugin_sha256 = sha256;
    cluster_.assign(function, node_id);
  } catch (const VerificationError& error) {
    fail(key, sha256, error.what());
    retry_later(key, value);
    return;
  } catch (const SyncError& error) {
    // Nobody answered: not this content's fault. Still syncing, later.
    const std::chrono::seconds delay = retry_later(key, value);
    const std::string message =
        std::string(error.what()) + "; trying again in " + std::to_string(delay.count()) + " s";
    set(key, {function_id, sha256, CopyState::Syncing, message, definition});
    write_log(
        log_, "warn", "plugin fetch failed",
        {{"node", node_id}, {"function", function_id}, {"sha256", sha256}, {"error", message}});
    return;
  } catch (const std::exception& error) {
    fail(key, sha256, error.what());
    return;
  }
  {
    const std::lock_guard lock(mutex_);
    retries_.erase(key);
  }
  set(key, {function_id, sha256, CopyState::Ready, {}, definition});
  write_log(log_, "info", "function assigned by the desired state",
            {{"node", node_id}, {"function", function_id}, {"sha256", sha256}});
}

void DesiredStateReconciler::apply_delete(const CopyKey& key) {
  {
    const std::lock_guard lock(mutex_);
    copies_.erase(key);
    retries_.erase(key);
  }
  const bool was_running = cluster_.unassign(key.second, key.first);
  write_log(log_, "info", "function unassigned by the desired state",
            {{"node", key.first},
             {"function", key.second},
             {"was_running", was_running ? "true" : "false"}});
}

void DesiredStateReconciler::fail(const CopyKey& key, std::string sha256,
                                  const std::string& message) {
  // A copy that cannot be what the controller asked for must not go on as
  // an older version: the controller reads Failed and places it elsewhere.
  try {
    cluster_.unassign(key.second, key.first);
  } catch (const std::exception& error) {
    write_log(log_, "error", "taking a failed copy off its node failed",
              {{"node", key.first}, {"function", key.second}, {"error", error.what()}});
  }
  write_log(
      log_, "error", "desired copy failed",
      {{"node", key.first}, {"function", key.second}, {"sha256", sha256}, {"error", message}});
  set(key, {key.second, std::move(sha256), CopyState::Failed, message, {}});
}

std::chrono::seconds DesiredStateReconciler::retry_later(const CopyKey& key,
                                                         const std::string& value) {
  constexpr std::chrono::seconds kFirst{2};
  constexpr std::chrono::seconds kLongest{60};
  const std::lock_guard lock(mutex_);
  Retry& retry = retries_[key];
  if (retry.value != value) retry = {value, 0, {}};
  const int doublings = std::min(retry.attempts++, 5);
  const std::chrono::seconds delay = std::min(kFirst * (1 << doublings), kLongest);
  retry.due = std::chrono::steady_clock::now() + delay;
  return delay;
}

void DesiredStateReconciler::set(const CopyKey& key, CopyStatus status) {
  const std::lock_guard lock(mutex_);
  copies_.insert_or_assign(key, std::move(status));
}

}  // namespace edge::fleet
