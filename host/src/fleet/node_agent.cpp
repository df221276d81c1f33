#include "fleet/node_agent.hpp"

#include "fleet/artifact_directory.hpp"
#include "fleet/desired_state_reconciler.hpp"
#include "fleet/heartbeat_message.hpp"
#include "fleet/json_fields.hpp"
#include "nats/kv_bucket.hpp"

#include <edge/errors.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace edge::fleet {
namespace {

std::string random_boot_id() {
  std::random_device device;
  char text[17];
  std::snprintf(text, sizeof text, "%08x%08x", device(), device());
  return text;
}

void check(const NodeAgentOptions& options, const EdgeCluster& cluster) {
  if (options.artifact_dir.empty()) {
    throw std::invalid_argument("node agent: artifact_dir is empty");
  }
  if (options.call_concurrency < 1) {
    throw std::invalid_argument("node agent: call_concurrency must be at least 1, not " +
                                std::to_string(options.call_concurrency));
  }
  if (options.heartbeat_interval.count() <= 0) {
    throw std::invalid_argument("node agent: heartbeat_interval must be above 0");
  }
  for (const std::string& node_id : options.node_ids) {
    if (!cluster.node(node_id)) {
      throw std::invalid_argument("node agent: node '" + node_id +
                                  "' is not registered in the cluster");
    }
  }
}

}  // namespace

struct NodeAgent::State {
  State(nats::NatsClient& nats_client, const Subjects& cluster_subjects, EdgeCluster& edge_cluster,
        NodeAgentOptions agent_options)
      : client(nats_client),
        subjects(cluster_subjects),
        cluster(edge_cluster),
        options(std::move(agent_options)),
        artifacts(options.artifact_dir),
        reconciler(client, subjects, cluster, artifacts, options.fetch, options.log,
                   [this](const std::string& sha256, const std::filesystem::path& file) {
                     offer(sha256, file);
                   }) {}

  nats::NatsClient& client;
  const Subjects subjects;
  EdgeCluster& cluster;
  const NodeAgentOptions options;
  const std::string boot_id = random_boot_id();
  const ArtifactDirectory artifacts;
  DesiredStateReconciler reconciler;

  // Made by start(), ended by stop() in the reverse order.
  std::unique_ptr<nats::KeyValueBucket> bucket;
  std::vector<nats::KvWatcher> watchers;
  std::vector<nats::Subscription> subscriptions;
  std::thread heartbeat_thread;
  bool started = false;  // start() was called (it runs once, even after failing)

  std::mutex heartbeat_mutex;
  std::condition_variable heartbeat_wakeup;
  bool stopping = false;  // guarded by heartbeat_mutex
  // Only the heartbeat thread touches these.
  std::vector<std::uint64_t> sequences;
  bool publish_failing = false;

  std::mutex offered_mutex;
  // guarded by offered_mutex: one server per artifact this host holds
  std::map<std::string, std::unique_ptr<ArtifactServer>, std::less<>> offered;
  bool offering = true;  // guarded by offered_mutex; false once stopping

  void log(std::string_view level, std::string_view message, LogFields fields = {}) const {
    write_log(options.log, level, message, std::move(fields));
  }

  bool serves(std::string_view node_id) const {
    return std::find(options.node_ids.begin(), options.node_ids.end(), node_id) !=
           options.node_ids.end();
  }

  Inventory inventory(std::string_view node_id) const;
  ResourceUsage usage_of(const std::string& node_id, const EdgeNode& node) const;
  void run_heartbeats();
  void publish_heartbeats();
  std::string answer_call(const std::string& node_id, std::string_view payload);
  void subscribe(const std::string& node_id);
  void offer(const std::string& sha256, const std::filesystem::path& file);
  void offer_held_artifacts();
  void stop() noexcept;
};

Inventory NodeAgent::State::inventory(std::string_view node_id) const {
  Inventory inventory;
  inventory.boot_id = boot_id;
  if (std::optional<EdgeNode> node = cluster.node(node_id)) {
    inventory.node = std::move(*node);
  } else {
    inventory.node = EdgeNode(std::string(node_id));
    inventory.node.status = EdgeNodeStatus::Offline;
  }
  for (CopyStatus& copy : reconciler.copies_of(node_id)) {
    InventoryEntry entry;
    entry.function_id = std::move(copy.function_id);
    entry.sha256 = std::move(copy.sha256);
    entry.state = copy.state;
    entry.error = std::move(copy.error);
    entry.stats.function_id = entry.function_id;
    for (auto& [running_node, stats] : cluster.function_stats(entry.function_id)) {
      if (running_node == node_id) entry.stats = std::move(stats);
    }
    // A drained or offline node says so; otherwise a node fetching a plugin
    // is Syncing.
    if (entry.state == CopyState::Syncing && inventory.node.status == EdgeNodeStatus::Online) {
      inventory.node.status = EdgeNodeStatus::Syncing;
    }
    inventory.functions.push_back(std::move(entry));
  }
  return inventory;
}

ResourceUsage NodeAgent::State::usage_of(const std::string& node_id, const EdgeNode& node) const {
  if (options.usage) {
    try {
      if (std::optional<ResourceUsage> usage = options.usage(node_id)) return *usage;
    } catch (const std::exception& error) {
      log("warn", "reading a node's resource usage failed; sending its registered figures",
          {{"node", node_id}, {"error", error.what()}});
    }
  }
  return node.resources;
}

void NodeAgent::State::publish_heartbeats() {
  for (std::size_t index = 0; index < options.node_ids.size(); ++index) {
    const std::string& node_id = options.node_ids[index];
    const std::optional<EdgeNode> node = cluster.node(node_id);
    if (!node) continue;  // deregistered meanwhile: nothing to report
    HeartbeatMessage message;
    message.node_id = node_id;
    message.boot_id = boot_id;
    message.sequence = ++sequences[index];
    message.usage = usage_of(node_id, *node);
    message.inventory_digest = inventory(node_id).digest();
    try {
      client.publish(subjects.heartbeat(node_id), encode(message));
      if (publish_failing) {
        publish_failing = false;
        log("info", "heartbeats reach NATS again", {{"node", node_id}});
      }
    } catch (const std::exception& error) {
      // Once per outage: libnats buffers while reconnecting, so this is a
      // closed connection or a full reconnect buffer.
      if (!publish_failing) {
        publish_failing = true;
        log("warn", "heartbeats are not reaching NATS",
            {{"node", node_id}, {"error", error.what()}});
      }
    }
  }
}

void NodeAgent::State::run_heartbeats() {
  std::unique_lock lock(heartbeat_mutex);
  while (!stopping) {
    lock.unlock();
    try {
      publish_heartbeats();
    } catch (const std::exception& error) {
      log("error", "a heartbeat round failed", {{"error", error.what()}});
    }
    lock.lock();
    heartbeat_wakeup.wait_for(lock, options.heartbeat_interval, [&] { return stopping; });
  }
}

std::string NodeAgent::State::answer_call(const std::string& node_id, std::string_view payload) {
  try {
    const CallRequest request = decode_call(payload);
    const std::optional<CopyStatus> copy = reconciler.copy(node_id, request.function_id);
    const auto not_ready = [&] {
      const std::string why = copy->state == CopyState::Syncing ? "is still fetching its plugin"
                                                                : "failed to sync: " + copy->error;
      return encode_call_failure(CallOutcome::NotReady,
                                 "function '" + std::string(request.function_id) + "' " + why);
    };
    if (copy && copy->state == CopyState::Failed) return not_ready();
    try {
      // While a new version is fetched, the version already running serves.
      return encode_call_result(
          cluster.invoke_on(node_id, request.function_id, request.input).result);
    } catch (const std::invalid_argument&) {
      if (copy && copy->state == CopyState::Syncing) return not_ready();  // no version yet
      throw;
    }
  } catch (...) {
    return encode_call_exception(std::current_exception());
  }
}

void NodeAgent::State::subscribe(const std::string& node_id) {
  subscriptions.push_back(
      client.subscribe(subjects.inventory(node_id), [this, node_id](const nats::Message& message) {
        if (message.reply_subject.empty()) return;
        try {
          client.respond(message.reply_subject, encode(inventory(node_id)));
        } catch (const std::exception& error) {
          log("warn", "answering an inventory request failed",
              {{"node", node_id}, {"error", error.what()}});
        }
      }));
  for (int member = 0; member < options.call_concurrency; ++member) {
    subscriptions.push_back(client.queue_subscribe(
        subjects.invoke(node_id), "calls", [this, node_id](const nats::Message& message) {
          if (message.reply_subject.empty()) return;
          const std::string reply = answer_call(node_id, message.payload);
          try {
            client.respond(message.reply_subject, reply);
          } catch (const std::exception& error) {
            // The caller times out: the call may have run (only idempotent
            // functions are retried elsewhere).
            log("warn", "answering a call failed", {{"node", node_id}, {"error", error.what()}});
          }
        }));
  }
  watchers.push_back(bucket->watch(
      subjects.desired_keys_of(node_id),
      [this, node_id](const nats::KvChange& change) { reconciler.enqueue(node_id, change); }));
}

void NodeAgent::State::offer(const std::string& sha256, const std::filesystem::path& file) {
  const std::lock_guard lock(offered_mutex);
  if (!offering || offered.contains(sha256)) return;
  try {
    offered.emplace(sha256, std::make_unique<ArtifactServer>(client, subjects, sha256, file));
  } catch (const std::exception& error) {
    log("warn", "cannot serve an artifact to other hosts",
        {{"sha256", sha256}, {"file", file.string()}, {"error", error.what()}});
  }
}

// What earlier runs fetched is served again from the start: <sha256>.so files
// in the directory (written only after verification).
void NodeAgent::State::offer_held_artifacts() {
  std::error_code error;
  for (const auto& item : std::filesystem::directory_iterator(artifacts.directory(), error)) {
    const std::filesystem::path& path = item.path();
    const std::string sha256 = path.stem().string();
    if (path.extension() == ".so" && is_sha256_hex(sha256) && artifacts.find(sha256)) {
      offer(sha256, path);
    }
  }
  if (error) {
    log("warn", "cannot list the artifact directory",
        {{"artifact_dir", artifacts.directory().string()}, {"error", error.message()}});
  }
}

void NodeAgent::State::stop() noexcept {
  {
    const std::lock_guard lock(heartbeat_mutex);
    stopping = true;
  }
  heartbeat_wakeup.notify_all();
  if (heartbeat_thread.joinable()) heartbeat_thread.join();
  // Calls and inventory requests first (they read the reconciler), then the
  // watchers that feed the reconciler, then the reconciler itself.
  subscriptions.clear();
  watchers.clear();
  reconciler.stop();
  std::map<std::string, std::unique_ptr<ArtifactServer>, std::less<>> servers;
  {
    const std::lock_guard lock(offered_mutex);
    offering = false;
    servers.swap(offered);
  }
  servers.clear();
  bucket.reset();
}

NodeAgent::NodeAgent(nats::NatsClient& client, const Subjects& subjects, EdgeCluster& cluster,
                     NodeAgentOptions options) {
  check(options, cluster);
  state_ = std::make_unique<State>(client, subjects, cluster, std::move(options));
}

NodeAgent::~NodeAgent() { state_->stop(); }

void NodeAgent::start() {
  State& state = *state_;
  if (state.started) throw std::logic_error("node agent: start() called twice");
  state.started = true;
  try {
    nats::KvBucketOptions bucket_options;
    bucket_options.name = state.subjects.desired_bucket();
    bucket_options.history = 1;
    bucket_options.storage = nats::KvStorage::File;
    state.bucket = std::make_unique<nats::KeyValueBucket>(state.client, bucket_options);
    state.offer_held_artifacts();
    state.reconciler.start();
    for (const std::string& node_id : state.options.node_ids) state.subscribe(node_id);
    state.sequences.assign(state.options.node_ids.size(), 0);
    state.heartbeat_thread = std::thread([&state] { state.run_heartbeats(); });
  } catch (...) {
    state.stop();
    throw;
  }
  state.log("info", "node agent started",
            {{"nodes", std::to_string(state.options.node_ids.size())},
             {"boot", state.boot_id},
             {"artifact_dir", state.artifacts.directory().string()}});
}

Inventory NodeAgent::inventory(std::string_view node_id) const {
  if (!state_->serves(node_id)) {
    throw std::invalid_argument("node agent: node '" + std::string(node_id) +
                                "' is not one of this host's nodes");
  }
  return state_->inventory(node_id);
}

}  // namespace edge::fleet
