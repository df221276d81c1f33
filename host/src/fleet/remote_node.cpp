#include "fleet/remote_node.hpp"

#include "nats/nats_error.hpp"

#include <edge/errors.hpp>

#include <chrono>
#include <cmath>

namespace edge::fleet {

void RemoteNodeState::set_inventory(Inventory inventory) {
  const auto now = std::chrono::steady_clock::now();
  std::lock_guard lock(mutex_);
  entries_.clear();
  for (const InventoryEntry& entry : inventory.functions) {
    entries_.emplace(entry.function_id, entry);
    if (entry.state == CopyState::Failed)
      failures_[entry.function_id] = {entry.sha256, entry.error, now};
  }
  inventory_ = std::move(inventory);
}

std::optional<std::string> RemoteNodeState::sync_failure(std::string_view function_id,
                                                         std::string_view sha256) const {
  std::lock_guard lock(mutex_);
  const auto found = failures_.find(function_id);
  if (found == failures_.end() || (!sha256.empty() && found->second.sha256 != sha256) ||
      std::chrono::steady_clock::now() - found->second.when > kSyncFailureMemory) {
    return std::nullopt;
  }
  return found->second.error;
}

std::optional<InventoryEntry> RemoteNodeState::entry(std::string_view function_id) const {
  std::lock_guard lock(mutex_);
  const auto found = entries_.find(function_id);
  if (found == entries_.end()) return std::nullopt;
  return found->second;
}

std::optional<Inventory> RemoteNodeState::inventory() const {
  std::lock_guard lock(mutex_);
  return inventory_;
}

RemoteNode::RemoteNode(const RemoteNodeContext& context, std::shared_ptr<RemoteNodeState> state)
    : context_(context), state_(std::move(state)) {}

void RemoteNode::update_node(const EdgeNode&) {
  // The node's metadata is its host's to say (its inventory); the controller
  // keeps status decisions (Offline, Maintenance) in its own view.
}

void RemoteNode::adopt(const EdgeFunction& function, const std::string& sha256) {
  std::lock_guard lock(mutex_);
  copies_[function.id] = {function, sha256};
}

void RemoteNode::deploy(const EdgeFunction& function) {
  // Called under the cluster's lock: the manifest is cached per file
  // content, and the write itself is queued.
  std::optional<ArtifactManifest> manifest;
  if (!function.plugin.empty()) {
    try {
      manifest = context_.catalog.manifest_of_file(function.plugin);
    } catch (const SyncError&) {
      // The file is gone or unreadable: ship the content it was pinned to, if known.
    }
  }
  if (!manifest && !function.plugin_sha256.empty())
    manifest = context_.catalog.manifest(function.plugin_sha256);
  {
    std::lock_guard lock(mutex_);
    copies_[function.id] = {function, manifest ? manifest->sha256 : std::string()};
  }
  if (!manifest) return;  // nothing to ship: the node never reports it ready
  DesiredCopy copy;
  copy.function = function;
  copy.function.plugin.clear();
  copy.function.plugin_sha256 = manifest->sha256;
  copy.artifact = *manifest;
  context_.writer.put(context_.subjects.desired_key(state_->node_id(), function.id),
                      [copy = std::move(copy), placement_of = context_.placement_of]() mutable {
                        copy.placement = placement_of(copy.function.id);
                        return encode(copy);
                      });
}

void RemoteNode::undeploy(std::string_view function_id) {
  {
    std::lock_guard lock(mutex_);
    const auto found = copies_.find(function_id);
    if (found == copies_.end()) return;
    copies_.erase(found);
  }
  context_.writer.erase(context_.subjects.desired_key(state_->node_id(), function_id));
}

std::optional<RemoteNode::Copy> RemoteNode::copy(std::string_view function_id) const {
  std::lock_guard lock(mutex_);
  const auto found = copies_.find(function_id);
  if (found == copies_.end()) return std::nullopt;
  return found->second;
}

bool RemoteNode::has_function(std::string_view function_id) const {
  std::lock_guard lock(mutex_);
  return copies_.find(function_id) != copies_.end();
}

std::size_t RemoteNode::function_count() const {
  std::lock_guard lock(mutex_);
  return copies_.size();
}

std::vector<std::string> RemoteNode::function_ids() const {
  std::vector<std::string> ids;
  std::lock_guard lock(mutex_);
  ids.reserve(copies_.size());
  for (const auto& [id, copy] : copies_) ids.push_back(id);
  return ids;
}

FunctionStats RemoteNode::function_stats(std::string_view function_id) const {
  if (std::optional<InventoryEntry> entry = state_->entry(function_id)) {
    FunctionStats stats = std::move(entry->stats);
    stats.function_id = std::string(function_id);
    if (entry->state == CopyState::Failed) stats.last_error = entry->error;
    return stats;
  }
  FunctionStats stats;
  stats.function_id = std::string(function_id);
  return stats;
}

std::uint64_t RemoteNode::total_invocations() const {
  std::uint64_t total = 0;
  if (const std::optional<Inventory> inventory = state_->inventory()) {
    for (const InventoryEntry& entry : inventory->functions) total += entry.stats.invocations;
  }
  return total;
}

std::uint64_t RemoteNode::cold_start_count() const {
  std::uint64_t total = 0;
  if (const std::optional<Inventory> inventory = state_->inventory()) {
    for (const InventoryEntry& entry : inventory->functions) total += entry.stats.cold_starts;
  }
  return total;
}

std::int64_t RemoteNode::in_flight() const {
  return calls_in_flight_.load(std::memory_order_relaxed);
}

std::optional<std::string> RemoteNode::refusal(std::string_view function_id) const {
  // A failure of other content (an older version) does not refuse this one;
  // when the controller does not know the content, any recent failure does.
  const std::optional<Copy> placed = copy(function_id);
  const std::optional<std::string> failure =
      state_->sync_failure(function_id, placed ? placed->sha256 : std::string());
  if (!failure) return std::nullopt;
  return "plugin sync failed there: " + *failure;
}

bool RemoteNode::serves(std::string_view function_id) const {
  const std::optional<InventoryEntry> entry = state_->entry(function_id);
  if (!entry) return false;
  // While the node fetches a new version, the one it has loaded serves.
  if (entry->state == CopyState::Syncing) return !entry->stats.plugin_sha256.empty();
  if (entry->state != CopyState::Ready) return false;
  const std::optional<Copy> placed = copy(function_id);
  return placed && (placed->sha256.empty() || placed->sha256 == entry->sha256);
}

EdgeRuntime::CallResult RemoteNode::invoke(std::string_view function_id, std::string_view input) {
  const std::optional<Copy> placed = copy(function_id);
  if (!placed) {
    throw std::invalid_argument("function '" + std::string(function_id) +
                                "' does not run on node '" + state_->node_id() + "'");
  }
  const double seconds = placed->function.timeout_seconds;
  const auto deadline = std::chrono::milliseconds(
      static_cast<std::int64_t>(std::ceil(std::max(seconds, 0.001) * 1000)));
  struct InFlight {
    std::atomic<std::int64_t>& count;
    explicit InFlight(std::atomic<std::int64_t>& counter) : count(counter) { ++count; }
    ~InFlight() { --count; }
    InFlight(const InFlight&) = delete;
    InFlight& operator=(const InFlight&) = delete;
  } in_flight(calls_in_flight_);
  std::string reply;
  try {
    reply = context_.client.request(context_.subjects.invoke(state_->node_id()),
                                    encode_call(function_id, input), deadline);
  } catch (const nats::NatsTimeoutError&) {
    throw NodeUnavailableError("node '" + state_->node_id() + "' did not answer function '" +
                               std::string(function_id) + "' within its timeout of " +
                               std::to_string(deadline.count()) + " ms");
  } catch (const nats::NatsNoRespondersError&) {
    throw NodeUnavailableError("node '" + state_->node_id() +
                               "' is not listening for calls (its host is stopped or "
                               "disconnected from NATS)");
  } catch (const nats::NatsError& error) {
    throw NodeUnavailableError("cannot reach node '" + state_->node_id() + "': " + error.what());
  }
  return decode_call_reply(reply, state_->node_id());
}

}  // namespace edge::fleet
