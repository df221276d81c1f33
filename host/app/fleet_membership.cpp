#include "fleet_membership.hpp"

#include "plugin_lifecycle.hpp"

#include "fleet/controller.hpp"
#include "fleet/node_agent.hpp"
#include "fleet/subjects.hpp"
#include "nats/nats_client.hpp"
#include "nats/nats_error.hpp"

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <random>
#include <vector>

namespace edge::app {
namespace {

std::chrono::milliseconds heartbeat_interval(const Topology& topology) {
  const double seconds = topology.heartbeat_interval_seconds > 0
                             ? topology.heartbeat_interval_seconds
                             : topology.heartbeat_timeout_seconds / 3;
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

// Where a node host keeps the plugins it fetched (verified, named by their
// SHA-256): beside the plugin store's copies when $EDGE_PLUGIN_CACHE_DIR is
// set (the systemd unit sets it: they survive a restart, and nothing is
// fetched twice), else in a directory of this process, removed at exit.
struct ArtifactDir {
  std::filesystem::path path;
  bool temporary = false;
};
ArtifactDir artifact_dir() {
  if (const std::optional<std::filesystem::path> cache = plugin_cache_dir())
    return {*cache / "artifacts", false};
  return {std::filesystem::temp_directory_path() /
              ("edge-host-artifacts-" + std::to_string(::getpid())),
          true};
}

}  // namespace

// The role goes first, then the connection.
struct FleetMembership::Role {
  Role(std::shared_ptr<nats::NatsClient> connection, const std::string& cluster)
      : client(std::move(connection)), subjects(cluster) {}
  std::shared_ptr<nats::NatsClient> client;
  fleet::Subjects subjects;
  std::unique_ptr<fleet::Controller> controller;
  std::unique_ptr<fleet::NodeAgent> agent;
  std::filesystem::path temporary_artifacts;  // removed after the agent is gone
  ~Role() {
    controller.reset();
    agent.reset();
    std::error_code ignored;
    if (!temporary_artifacts.empty()) std::filesystem::remove_all(temporary_artifacts, ignored);
  }
  Role(const Role&) = delete;
  Role& operator=(const Role&) = delete;
};

FleetMembership::FleetMembership(const Topology& topology, EdgeCluster& cluster,
                                 const log::Logger& logger)
    : topology_(topology), cluster_(cluster), logger_(logger), thread_([this] { join(); }) {}

FleetMembership::~FleetMembership() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  stop_.notify_all();
  thread_.join();
  role_.reset();
}

std::string FleetMembership::describe() const {
  return std::string(topology_.controller ? "controller" : "node host") + " of cluster '" +
         topology_.cluster_name + "' over NATS " + topology_.nats_url;
}

void FleetMembership::join() {
  nats::NatsClientOptions options;
  options.url = topology_.nats_url;
  options.name = "edge-host " + topology_.cluster_name +
                 (topology_.controller ? " controller" : " node") + " pid " +
                 std::to_string(::getpid());
  options.on_disconnected = [this] {
    logger_.write(log::Level::Warn, "disconnected from NATS; serving local nodes, reconnecting",
                  {{"nats", topology_.nats_url}});
  };
  options.on_reconnected = [this] {
    logger_.write(log::Level::Info, "reconnected to NATS", {{"nats", topology_.nats_url}});
  };
  std::mt19937 random(std::random_device{}());
  // Jittered, so that a fleet booting together does not retry in step;
  // false once stopping.
  const auto wait_before_retry = [&] {
    const auto wait = options.reconnect_wait +
                      std::chrono::milliseconds(std::uniform_int_distribution<int>(
                          0, static_cast<int>(options.reconnect_jitter.count()))(random));
    std::unique_lock lock(mutex_);
    return !stop_.wait_for(lock, wait, [&] { return stopping_; });
  };
  std::shared_ptr<nats::NatsClient> client;
  for (int attempt = 1;; ++attempt) {
    try {
      if (!client) client = std::make_shared<nats::NatsClient>(options);
    } catch (const nats::NatsError& error) {
      if ((attempt & (attempt - 1)) == 0) {
        logger_.write(log::Level::Warn, "cannot reach NATS; serving local nodes, retrying",
                      {{"error", error.what()}, {"attempt", attempt}});
      }
      if (!wait_before_retry()) return;
      continue;
    }
    try {
      std::unique_ptr<Role> role = start_role(client);
      logger_.write(log::Level::Info, "joined the cluster over NATS",
                    {{"cluster", topology_.cluster_name},
                     {"role", topology_.controller ? "controller" : "node"},
                     {"nats", topology_.nats_url}});
      std::lock_guard lock(mutex_);
      role_ = std::move(role);
      return;
    } catch (const std::exception& error) {
      // JetStream not enabled on the server, a bucket that timed out: the
      // connection stays and the role is tried again.
      if ((attempt & (attempt - 1)) == 0) {
        logger_.write(log::Level::Error, "cannot join the cluster over NATS; retrying",
                      {{"nats", topology_.nats_url},
                       {"error", std::string_view(error.what())},
                       {"attempt", attempt}});
      }
    }
    if (!wait_before_retry()) return;
  }
}

std::unique_ptr<FleetMembership::Role> FleetMembership::start_role(
    std::shared_ptr<nats::NatsClient> client) {
  auto role = std::make_unique<Role>(std::move(client), topology_.cluster_name);
  if (topology_.controller) {
    fleet::ControllerOptions controller_options;
    controller_options.heartbeat_timeout_seconds = topology_.heartbeat_timeout_seconds;
    controller_options.functions = topology_.functions;
    role->controller = std::make_unique<fleet::Controller>(*role->client, role->subjects, cluster_,
                                                           logger_, controller_options);
    role->controller->start();
  } else {
    fleet::NodeAgentOptions agent_options;
    for (const EdgeNode& node : topology_.nodes) agent_options.node_ids.push_back(node.id);
    agent_options.heartbeat_interval = heartbeat_interval(topology_);
    const ArtifactDir artifacts = artifact_dir();
    agent_options.artifact_dir = artifacts.path;
    if (artifacts.temporary) role->temporary_artifacts = artifacts.path;
    agent_options.log = [this](std::string_view level, std::string_view message,
                               const fleet::LogFields& fields) {
      std::vector<log::Field> forwarded;
      forwarded.reserve(fields.size());
      for (const auto& [key, value] : fields) forwarded.emplace_back(key, value);
      logger_.write(log::parse_level(level).value_or(log::Level::Info), message, forwarded);
    };
    role->agent =
        std::make_unique<fleet::NodeAgent>(*role->client, role->subjects, cluster_, agent_options);
    role->agent->start();
  }
  return role;
}

}  // namespace edge::app
