#include "fleet/controller.hpp"

#include "fleet/heartbeat_message.hpp"
#include "fleet/protocol.hpp"
#include "nats/nats_error.hpp"

#include <edge/errors.hpp>

#include <algorithm>
#include <utility>

namespace edge::fleet {
Controller::Controller(nats::NatsClient& client, const Subjects& subjects, EdgeCluster& cluster,
                       const log::Logger& logger, ControllerOptions options)
    : client_(client),
      subjects_(subjects),
      cluster_(cluster),
      logger_(logger),
      options_(std::move(options)) {}

Controller::~Controller() {
  heartbeats_.reset();  // no heartbeat handler runs from here on
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void Controller::start() {
  bucket_ = std::make_unique<nats::KeyValueBucket>(
      client_, nats::KvBucketOptions{.name = subjects_.desired_bucket()});
  writer_ = std::make_unique<DesiredStateWriter>(*bucket_, logger_);
  std::size_t keys = 0;
  for (const std::string& key : bucket_->keys()) {
    const std::optional<nats::KvEntry> entry = bucket_->get(key);
    if (!entry) continue;
    writer_->seed(key, entry->value, entry->revision);
    const auto names = subjects_.node_and_function_of(key);
    try {
      if (!names) throw ProtocolError("the key is not \"<node>.<function>\"");
      DesiredCopy copy = decode_desired(entry->value);
      catalog_.remember(copy.artifact);
      DesiredFunction& desired = desired_at_start_[names->second];
      desired.copy = std::move(copy);
      desired.nodes.push_back(names->first);
      ++keys;
    } catch (const ProtocolError& error) {
      logger_.write(log::Level::Error, "unreadable desired state left as it is",
                    {{"key", key}, {"error", error.what()}});
    }
  }
  logger_.write(log::Level::Info, "controller started",
                {{"cluster", subjects_.cluster()},
                 {"desired_copies", keys},
                 {"grace_seconds", options_.heartbeat_timeout_seconds}});
  artifact_server_ = std::make_unique<ArtifactServer>(
      client_, subjects_, [this](std::string_view sha256) { return catalog_.file_of(sha256); });
  worker_ = std::thread([this] { run(); });
  heartbeats_ = client_.subscribe(subjects_.every_heartbeat(),
                                  [this](const nats::Message& message) { on_heartbeat(message); });
}

void Controller::on_heartbeat(const nats::Message& message) {
  HeartbeatMessage heartbeat;
  try {
    heartbeat = decode_heartbeat(message.payload);
    if (subjects_.node_of_heartbeat(message.subject) != heartbeat.node_id) {
      throw ProtocolError("field 'node' (\"" + heartbeat.node_id +
                          "\") is not the node of subject " + std::string(message.subject));
    }
  } catch (const ProtocolError& error) {
    std::uint64_t rejected = 0;
    {
      std::lock_guard lock(mutex_);
      rejected = ++counters_.rejected_heartbeats;
    }
    // One line per power of two: a misbehaving sender cannot flood the log.
    if ((rejected & (rejected - 1)) == 0) {
      logger_.write(log::Level::Warn, "heartbeat refused",
                    {{"subject", message.subject}, {"error", error.what()}, {"refused", rejected}});
    }
    return;
  }
  bool registered = false;
  bool wake = false;
  {
    std::lock_guard lock(mutex_);
    KnownNode& node = nodes_[heartbeat.node_id];
    if (node.boot_id == heartbeat.boot_id && heartbeat.sequence <= node.sequence) {
      ++counters_.rejected_heartbeats;  // late: an older one overtook it
      return;
    }
    node.boot_id = heartbeat.boot_id;
    node.sequence = heartbeat.sequence;
    ++counters_.heartbeats;
    registered = node.state != nullptr;
    const bool changed = !registered || node.digest != heartbeat.inventory_digest;
    const bool due = std::chrono::steady_clock::now() - node.read_at >= options_.inventory_refresh;
    if ((changed || due) && !node.queued) {
      node.queued = true;
      inventory_queue_.push_back(heartbeat.node_id);
      wake = true;
    }
  }
  if (wake) wake_.notify_all();
  if (!registered) return;
  try {
    cluster_.heartbeat(heartbeat.node_id, heartbeat.usage);
  } catch (const std::invalid_argument&) {
    // Deregistered through the API meanwhile: a live node registers again.
    std::lock_guard lock(mutex_);
    nodes_[heartbeat.node_id].state.reset();
  }
}

void Controller::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!inventory_queue_.empty()) {
      std::string node_id = std::move(inventory_queue_.front());
      inventory_queue_.pop_front();
      lock.unlock();
      read_inventory(node_id);
      lock.lock();
      nodes_[node_id].queued = false;
      continue;
    }
    if (!restored_ && (restore_due() || std::chrono::steady_clock::now() >= restore_deadline())) {
      lock.unlock();
      restore();
      lock.lock();
      restored_ = true;
      wake_.notify_all();
      continue;
    }
    lock.unlock();
    cover_for_outage();
    lock.lock();
    const auto work = [&] { return stopping_ || !inventory_queue_.empty(); };
    const auto next_check = std::chrono::steady_clock::now() + kOutageCheckPeriod;
    wake_.wait_until(lock, restored_ ? next_check : std::min(next_check, restore_deadline()), work);
  }
}

void Controller::cover_for_outage() {
  // While this controller cannot hear anyone, and for one heartbeat timeout
  // after it hears again, silence is not news: it refreshes the nodes it
  // last saw alive, so that its own disconnection does not declare the whole
  // fleet stale and move every function. Nodes that died meanwhile are
  // found one timeout after the outage.
  const auto now = std::chrono::steady_clock::now();
  const auto grace = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(options_.heartbeat_timeout_seconds));
  const bool connected = client_.connected();
  if (!connected) {
    if (blind_until_ <= now) {
      logger_.write(log::Level::Warn,
                    "controller lost NATS: remote nodes are kept as they were until it hears "
                    "them again",
                    {{"nats", client_.url()}});
    }
    blind_until_ = now + grace;
  }
  if (now >= blind_until_) return;
  std::vector<std::string> remote;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [id, node] : nodes_) {
      if (node.state != nullptr) remote.push_back(id);
    }
  }
  for (const std::string& id : remote) {
    const std::optional<EdgeNode> node = cluster_.node(id);
    if (!node || node->status == EdgeNodeStatus::Offline) continue;
    try {
      cluster_.heartbeat(id);
    } catch (const std::invalid_argument&) {  // deregistered meanwhile
    }
  }
}

std::chrono::steady_clock::time_point Controller::restore_deadline() const {
  // A restart waits one heartbeat timeout for the nodes it knew. A new
  // cluster (no desired state) waits only a moment, so that the nodes
  // starting with it join before the first placements spread the functions.
  constexpr double kJoinWindowSeconds = 2;
  const double seconds = desired_at_start_.empty()
                             ? std::min(kJoinWindowSeconds, options_.heartbeat_timeout_seconds)
                             : options_.heartbeat_timeout_seconds;
  return started_ + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                        std::chrono::duration<double>(seconds));
}

bool Controller::restore_due() const {
  // Every node the desired state names has registered: nobody to wait for.
  if (desired_at_start_.empty()) return false;
  for (const auto& [function_id, desired] : desired_at_start_) {
    for (const std::string& node_id : desired.nodes) {
      const auto node = nodes_.find(node_id);
      if (node == nodes_.end() || node->second.state == nullptr) return false;
    }
  }
  return true;
}

void Controller::read_inventory(const std::string& node_id) {
  try {
    const Inventory inventory = decode_inventory(client_.request(
        subjects_.inventory(node_id), std::string_view{}, options_.inventory_timeout));
    if (inventory.node.id != node_id) {
      throw ProtocolError("inventory of node '" + node_id + "' names node '" + inventory.node.id +
                          "'");
    }
    register_from(inventory);
    replace_failed_copies(inventory);
  } catch (const std::exception& error) {
    {
      std::lock_guard lock(mutex_);
      ++counters_.inventory_failures;
    }
    // The next heartbeat queues the node again.
    logger_.write(log::Level::Warn, "cannot read the inventory of a node",
                  {{"node", node_id}, {"error", error.what()}});
  }
}

void Controller::register_from(const Inventory& inventory) {
  const std::string& node_id = inventory.node.id;
  std::shared_ptr<RemoteNodeState> state;
  {
    std::lock_guard lock(mutex_);
    state = nodes_[node_id].state;
  }
  const bool known = state != nullptr && cluster_.node(node_id).has_value();
  if (!known) state = std::make_shared<RemoteNodeState>(node_id);
  state->set_inventory(inventory);
  EdgeNode meta = inventory.node;
  if (const std::optional<EdgeNode> current = cluster_.node(node_id)) {
    // Offline and Maintenance are this controller's decisions, not the node's.
    if (current->status == EdgeNodeStatus::Maintenance) meta.status = EdgeNodeStatus::Maintenance;
    meta.resources = current->resources;  // heartbeats keep these current
  }
  if (known) {
    cluster_.register_node(std::move(meta));
  } else {
    RemoteNodeContext context{client_, subjects_, *writer_, catalog_,
                              [this](std::string_view id) { return placement_of(id); }};
    cluster_.register_node(std::move(meta), std::make_unique<RemoteNode>(context, state));
    logger_.write(log::Level::Info, "node joined",
                  {{"node", node_id},
                   {"boot", inventory.boot_id},
                   {"functions", inventory.functions.size()}});
  }
  std::lock_guard lock(mutex_);
  KnownNode& node = nodes_[node_id];
  node.state = std::move(state);
  node.digest = inventory.digest();
  node.read_at = std::chrono::steady_clock::now();
  if (!known) ++counters_.registrations;
}

void Controller::replace_failed_copies(const Inventory& inventory) {
  // A least-loaded function whose plugin failed verification on its node
  // moves: the node now refuses it (RemoteNode::refusal), so placing it
  // again picks another one (if there is one). Copies of deploy_to_all
  // functions stay, out of routing, while the node tries again.
  for (const InventoryEntry& entry : inventory.functions) {
    if (entry.state != CopyState::Failed) continue;
    const std::vector<std::string> running = cluster_.nodes_running(entry.function_id);
    if (std::find(running.begin(), running.end(), inventory.node.id) == running.end()) continue;
    if (cluster_.placement(entry.function_id) != Placement::LeastLoaded) continue;
    if (const std::optional<EdgeFunction> function = cluster_.function(entry.function_id)) {
      // With nowhere else to go it stays: the node tries again on its own.
      if (cluster_.plan(*function, Placement::LeastLoaded).nodes.empty()) continue;
      const std::optional<std::string> moved = cluster_.deploy_least_loaded(*function);
      logger_.write(log::Level::Error, "plugin sync failed on a node; function placed elsewhere",
                    {{"node", inventory.node.id},
                     {"function", entry.function_id},
                     {"error", entry.error},
                     {"now_on", moved.value_or("(pending)")}});
    }
  }
}

void Controller::restore() {
  std::map<std::string, DesiredFunction> desired;
  {
    std::lock_guard lock(mutex_);
    desired = std::move(desired_at_start_);
    desired_at_start_.clear();
  }
  std::set<std::string> applied;
  for (const FunctionSpec& spec : options_.functions) {
    applied.insert(spec.function.id);
    try {
      const auto found = desired.find(spec.function.id);
      if (found != desired.end()) {
        cluster_.restore(spec.function, spec.placement, found->second.nodes);
      } else if (spec.placement == Placement::All) {
        cluster_.deploy_to_all(spec.function);
      } else {
        cluster_.deploy_least_loaded(spec.function);
      }
    } catch (const std::exception& error) {
      logger_.write(log::Level::Error, "cannot place function",
                    {{"function", spec.function.id}, {"error", error.what()}});
    }
  }
  // Desired state of functions this controller no longer has (removed from
  // its topology while it was down): taken off the nodes.
  for (const auto& [function_id, entry] : desired) {
    if (applied.count(function_id) != 0) continue;
    for (const std::string& node_id : entry.nodes)
      writer_->erase(subjects_.desired_key(node_id, function_id));
    logger_.write(log::Level::Warn,
                  "desired state of a function unknown to this controller removed",
                  {{"function", function_id}, {"nodes", entry.nodes.size()}});
  }
  logger_.write(log::Level::Info, "cluster view rebuilt", {{"functions", applied.size()}});
}

Placement Controller::placement_of(std::string_view function_id) const {
  return cluster_.placement(function_id).value_or(Placement::All);
}

bool Controller::restored() const {
  std::lock_guard lock(mutex_);
  return restored_;
}

bool Controller::wait_until_restored(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mutex_);
  return wake_.wait_for(lock, timeout, [&] { return restored_; });
}

bool Controller::wait_until_written(std::chrono::milliseconds timeout) {
  return writer_ == nullptr || writer_->wait_until_written(timeout);
}

Controller::Counters Controller::counters() const {
  std::lock_guard lock(mutex_);
  Counters counters = counters_;
  if (writer_) counters.desired_conflicts = writer_->conflicts();
  return counters;
}

}  // namespace edge::fleet
