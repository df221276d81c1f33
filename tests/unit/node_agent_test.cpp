// The node agent over a real nats-server, with real plugins: heartbeats and
// inventories a controller can read, desired state that turns into running
// functions (fetched once, verified, written read-only), a corrupted
// artifact that never runs, and local functions that keep running while
// NATS is gone.
#include "fleet/node_agent.hpp"

#include "fleet/protocol.hpp"
#include "nats/kv_bucket.hpp"
#include "nats/nats_client.hpp"
#include "nats_server.hpp"
#include "nats_test_support.hpp"
#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <edge/cluster.hpp>
#include <edge/errors.hpp>

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using edge::fleet::CopyState;
using edge::fleet::DesiredCopy;
using edge::fleet::HeartbeatMessage;
using edge::fleet::Inventory;
using edge::fleet::NodeAgent;
using edge::fleet::NodeAgentOptions;
using edge::fleet::Subjects;
using namespace std::chrono_literals;

namespace {

// Serves one artifact's chunks like a holder, counting the requests; `tamper`
// may change a reply before it goes out.
class CountingHolder {
 public:
  CountingHolder(edge::nats::NatsClient& client, const Subjects& subjects, std::string bytes,
                 std::function<void(std::string&)> tamper = {})
      : bytes_(std::move(bytes)), tamper_(std::move(tamper)) {
    subscription_ = client.queue_subscribe(
        subjects.artifact_chunks(), "holders", [this, &client](const edge::nats::Message& m) {
          const auto [sha256, offset, length] = *edge::fleet::parse_chunk_request(m.payload);
          {
            const std::lock_guard lock(mutex_);
            ++requests_;
          }
          std::string reply = "K" + bytes_.substr(offset, length);
          if (tamper_) tamper_(reply);
          client.respond(m.reply_subject, reply);
        });
    client.flush(edge::test::kEventDeadline);
  }
  int requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }
  void stop() { subscription_.reset(); }

 private:
  std::string bytes_;
  std::function<void(std::string&)> tamper_;
  mutable std::mutex mutex_;
  int requests_ = 0;  // guarded by mutex_
  edge::nats::Subscription subscription_;
};

struct LogLine {
  std::string level;
  std::string message;
  edge::fleet::LogFields fields;
};

// A node host (cluster + agent) and a controller's view of NATS (its own
// client and the desired-state bucket), on one test server.
struct Fleet {
  Fleet() {
    cluster.register_node(edge::EdgeNode("gw.a"));
    cluster.register_node(edge::EdgeNode("gw-b"));
    edge::nats::KvBucketOptions bucket_options;
    bucket_options.name = subjects.desired_bucket();
    desired = std::make_unique<edge::nats::KeyValueBucket>(controller, bucket_options);
  }

  NodeAgentOptions options() {
    NodeAgentOptions options;
    options.node_ids = {"gw.a", "gw-b"};
    options.heartbeat_interval = 50ms;
    options.artifact_dir = scratch / "artifacts";
    options.fetch.chunk_bytes = 4096;
    options.fetch.chunk_timeout = 500ms;
    options.fetch.chunk_attempts = 2;
    options.call_concurrency = 2;
    options.log = [this](std::string_view level, std::string_view message,
                         edge::fleet::LogFields fields) {
      logs.add({std::string(level), std::string(message), std::move(fields)});
    };
    return options;
  }

  DesiredCopy copy_of(const std::string& function_id) const {
    DesiredCopy copy;
    copy.function = edge::EdgeFunction(function_id);
    copy.function.timeout_seconds = 5;
    copy.placement = edge::Placement::Pinned;
    copy.artifact = manifest;
    copy.function.plugin_sha256 = manifest.sha256;
    return copy;
  }
  void put(const std::string& node_id, const DesiredCopy& copy) {
    desired->put(subjects.desired_key(node_id, copy.function.id), edge::fleet::encode(copy));
  }

  // The inventory entry of the function once its state is no longer Syncing.
  std::optional<edge::fleet::InventoryEntry> settled(const NodeAgent& agent,
                                                     const std::string& node_id,
                                                     const std::string& function_id) {
    std::optional<edge::fleet::InventoryEntry> found;
    edge::test::eventually([&] {
      for (const auto& entry : agent.inventory(node_id).functions) {
        if (entry.function_id == function_id && entry.state != CopyState::Syncing) found = entry;
      }
      return found.has_value();
    });
    return found;
  }

  std::string call(const std::string& node_id, const std::string& function_id,
                   const std::string& input) {
    return controller.request(subjects.invoke(node_id),
                              edge::fleet::encode_call(function_id, input),
                              edge::test::kEventDeadline);
  }

  edge::test::ScratchDir scratch{"edge-node-agent"};
  edge::test::NatsServerProcess server;
  edge::nats::NatsClient host{edge::test::client_options(server, "node-host")};
  edge::nats::NatsClient controller{edge::test::client_options(server, "controller")};
  const Subjects subjects{"plant"};
  const std::string plugin_bytes = edge::test::file_bytes(edge::test::plugin("echo"));
  const edge::fleet::ArtifactManifest manifest =
      edge::fleet::manifest_of(edge::SyncState::from_data(plugin_bytes, 1));
  std::unique_ptr<edge::nats::KeyValueBucket> desired;
  edge::test::Recorder<LogLine> logs;
  edge::EdgeCluster cluster;
};

}  // namespace

TEST_CASE("node agent: heartbeats arrive for every node and inventories are answered") {
  Fleet fleet;
  edge::test::Recorder<HeartbeatMessage> heartbeats;
  const edge::nats::Subscription watch = fleet.controller.subscribe(
      fleet.subjects.every_heartbeat(), [&](const edge::nats::Message& message) {
        heartbeats.add(edge::fleet::decode_heartbeat(message.payload));
      });
  fleet.controller.flush(edge::test::kEventDeadline);
  NodeAgentOptions options = fleet.options();
  options.usage = [](std::string_view node_id) -> std::optional<edge::ResourceUsage> {
    if (node_id == "gw.a") return edge::ResourceUsage{42, 300, 2000};
    return std::nullopt;
  };
  NodeAgent agent(fleet.host, fleet.subjects, fleet.cluster, options);
  agent.start();

  REQUIRE(heartbeats.wait_for_count(6));
  std::vector<std::uint64_t> sequences_of_a;
  std::string boot;
  for (const HeartbeatMessage& heartbeat : heartbeats.items()) {
    if (boot.empty()) boot = heartbeat.boot_id;
    CHECK(heartbeat.boot_id == boot);
    CHECK(heartbeat.inventory_digest == agent.inventory(heartbeat.node_id).digest());
    if (heartbeat.node_id == "gw.a") {
      sequences_of_a.push_back(heartbeat.sequence);
      CHECK(heartbeat.usage.cpu_percent == 42);
      CHECK(heartbeat.usage.memory_max_mb == 2000);
    } else {
      CHECK(heartbeat.node_id == "gw-b");
      CHECK(heartbeat.usage.memory_max_mb == fleet.cluster.node("gw-b")->resources.memory_max_mb);
    }
  }
  REQUIRE(sequences_of_a.size() >= 2);
  CHECK(sequences_of_a.front() == 1);
  CHECK(sequences_of_a[1] == 2);

  const Inventory inventory = edge::fleet::decode_inventory(
      fleet.controller.request(fleet.subjects.inventory("gw.a"), "", edge::test::kEventDeadline));
  CHECK(inventory.node.id == "gw.a");
  CHECK(inventory.node.status == edge::EdgeNodeStatus::Online);
  CHECK(inventory.boot_id == boot);
  CHECK(inventory.functions.empty());
  CHECK_THROWS_AS(agent.inventory("elsewhere"), std::invalid_argument);
}

TEST_CASE("node agent: options that cannot work are refused, naming what") {
  Fleet fleet;
  NodeAgentOptions options = fleet.options();
  options.node_ids.push_back("ghost");
  CHECK_THROWS_WITH_AS(NodeAgent(fleet.host, fleet.subjects, fleet.cluster, options),
                       "node agent: node 'ghost' is not registered in the cluster",
                       std::invalid_argument);
  options = fleet.options();
  options.call_concurrency = 0;
  CHECK_THROWS_WITH_AS(NodeAgent(fleet.host, fleet.subjects, fleet.cluster, options),
                       "node agent: call_concurrency must be at least 1, not 0",
                       std::invalid_argument);
}

TEST_CASE("node agent: a desired copy is fetched once, verified, written read-only and served") {
  Fleet fleet;
  edge::nats::NatsClient holder_client(edge::test::client_options(fleet.server, "holder"));
  CountingHolder holder(holder_client, fleet.subjects, fleet.plugin_bytes);
  NodeAgent agent(fleet.host, fleet.subjects, fleet.cluster, fleet.options());
  agent.start();

  fleet.put("gw.a", fleet.copy_of("echo"));
  const auto echo = fleet.settled(agent, "gw.a", "echo");
  REQUIRE(echo);
  CHECK(echo->state == CopyState::Ready);
  CHECK(echo->error.empty());
  CHECK(echo->sha256 == fleet.manifest.sha256);
  const int chunks = holder.requests();
  CHECK(chunks == static_cast<int>((fleet.plugin_bytes.size() + 4095) / 4096));

  const std::filesystem::path file = fleet.scratch / "artifacts" / (fleet.manifest.sha256 + ".so");
  REQUIRE(std::filesystem::is_regular_file(file));
  CHECK(edge::test::file_bytes(file) == fleet.plugin_bytes);
  struct stat status {};
  REQUIRE(::stat(file.c_str(), &status) == 0);
  CHECK((status.st_mode & 07777) == 0444);
  CHECK(fleet.cluster.functions_on("gw.a") == std::vector<std::string>{"echo"});
  CHECK(fleet.cluster.functions_on("gw-b").empty());

  // A call over NATS runs it; the inventory a controller reads says so.
  const edge::EdgeRuntime::CallResult result =
      edge::fleet::decode_call_reply(fleet.call("gw.a", "echo", "over the wire"), "gw.a");
  CHECK(result.output == "over the wire");
  CHECK(result.cold_start);
  const Inventory inventory = edge::fleet::decode_inventory(
      fleet.controller.request(fleet.subjects.inventory("gw.a"), "", edge::test::kEventDeadline));
  REQUIRE(inventory.functions.size() == 1);
  CHECK(inventory.functions[0].state == CopyState::Ready);
  CHECK(inventory.functions[0].stats.invocations == 1);
  CHECK(inventory.functions[0].stats.plugin_sha256 == fleet.manifest.sha256);

  // The same content for another function, and for another node: not fetched again.
  fleet.put("gw.a", fleet.copy_of("echo.too"));
  fleet.put("gw-b", fleet.copy_of("echo"));
  REQUIRE(fleet.settled(agent, "gw.a", "echo.too"));
  REQUIRE(fleet.settled(agent, "gw-b", "echo"));
  CHECK(fleet.settled(agent, "gw-b", "echo")->state == CopyState::Ready);
  CHECK(holder.requests() == chunks);
  CHECK(fleet.cluster.functions_on("gw.a") == std::vector<std::string>{"echo", "echo.too"});
  // The same put again changes nothing (the copy stays warm). Changes are
  // applied in order: once the next one is, that one was.
  fleet.put("gw.a", fleet.copy_of("echo"));
  fleet.put("gw-b", fleet.copy_of("echo.marker"));
  REQUIRE(fleet.settled(agent, "gw-b", "echo.marker"));
  CHECK_FALSE(
      edge::fleet::decode_call_reply(fleet.call("gw.a", "echo", "again"), "gw.a").cold_start);

  // Having fetched it, this host serves the artifact to others.
  holder.stop();
  CHECK(edge::fleet::fetch_artifact(fleet.controller, fleet.subjects, fleet.manifest) ==
        fleet.plugin_bytes);

  // A delete takes it off the node: calls then do not know it.
  fleet.desired->erase(fleet.subjects.desired_key("gw.a", "echo"));
  REQUIRE(edge::test::eventually(
      [&] { return fleet.cluster.functions_on("gw.a") == std::vector<std::string>{"echo.too"}; }));
  CHECK(agent.inventory("gw.a").functions.size() == 1);
  CHECK_THROWS_AS(edge::fleet::decode_call_reply(fleet.call("gw.a", "echo", "x"), "gw.a"),
                  std::invalid_argument);
}

TEST_CASE("node agent: an artifact corrupted in transit is never written nor run") {
  Fleet fleet;
  edge::nats::NatsClient holder_client(edge::test::client_options(fleet.server, "holder"));
  CountingHolder holder(holder_client, fleet.subjects, fleet.plugin_bytes, [](std::string& reply) {
    if (reply.size() > 100) reply[100] = static_cast<char>(reply[100] ^ 0x01);
  });
  NodeAgent agent(fleet.host, fleet.subjects, fleet.cluster, fleet.options());
  agent.start();

  fleet.put("gw.a", fleet.copy_of("echo"));
  const auto echo = fleet.settled(agent, "gw.a", "echo");
  REQUIRE(echo);
  CHECK(echo->state == CopyState::Failed);
  CHECK(echo->error == "artifact " + fleet.manifest.sha256 +
                           ": MD5 mismatch (SyncState::verify): corrupted in transit");
  CHECK(std::filesystem::is_empty(fleet.scratch / "artifacts"));
  CHECK(fleet.cluster.functions_on("gw.a").empty());

  const std::string reply = fleet.call("gw.a", "echo", "x");
  CHECK(reply.starts_with("N"));
  CHECK_THROWS_WITH_AS(edge::fleet::decode_call_reply(reply, "gw.a"),
                       ("node 'gw.a': function 'echo' failed to sync: " + echo->error).c_str(),
                       edge::EdgeExecutionError);
  const Inventory inventory = edge::fleet::decode_inventory(
      fleet.controller.request(fleet.subjects.inventory("gw.a"), "", edge::test::kEventDeadline));
  REQUIRE(inventory.functions.size() == 1);
  CHECK(inventory.functions[0].state == CopyState::Failed);
  CHECK(inventory.functions[0].error == echo->error);

  bool logged = false;
  for (const LogLine& line : fleet.logs.items()) {
    if (line.level != "error") continue;
    logged = true;
    CHECK(line.fields == edge::fleet::LogFields{{"node", "gw.a"},
                                                {"function", "echo"},
                                                {"sha256", fleet.manifest.sha256},
                                                {"error", echo->error}});
  }
  CHECK(logged);

  // A value that is no desired copy fails the same way, naming the field.
  fleet.desired->put(fleet.subjects.desired_key("gw.a", "broken"), R"({"v":1})");
  const auto broken = fleet.settled(agent, "gw.a", "broken");
  REQUIRE(broken);
  CHECK(broken->state == CopyState::Failed);
  CHECK(broken->error == "desired copy: missing \"artifact\"");
}

TEST_CASE("node agent: without NATS local functions keep running; heartbeats then resume") {
  Fleet fleet;
  edge::nats::NatsClient holder_client(edge::test::client_options(fleet.server, "holder"));
  CountingHolder holder(holder_client, fleet.subjects, fleet.plugin_bytes);
  auto agent =
      std::make_unique<NodeAgent>(fleet.host, fleet.subjects, fleet.cluster, fleet.options());
  agent->start();
  fleet.put("gw.a", fleet.copy_of("echo"));
  REQUIRE(fleet.settled(*agent, "gw.a", "echo"));

  edge::test::Recorder<HeartbeatMessage> heartbeats;
  const edge::nats::Subscription watch = fleet.controller.subscribe(
      fleet.subjects.heartbeat("gw.a"), [&](const edge::nats::Message& message) {
        heartbeats.add(edge::fleet::decode_heartbeat(message.payload));
      });
  REQUIRE(heartbeats.wait_for_count(2));

  fleet.server.kill();
  REQUIRE(edge::test::eventually([&] { return !fleet.host.connected(); }));
  for (int call = 0; call < 5; ++call) {
    CHECK(fleet.cluster.invoke_on("gw.a", "echo", "offline").result.output == "offline");
    std::this_thread::sleep_for(60ms);  // heartbeats keep trying meanwhile
  }

  fleet.server.restart();
  REQUIRE(edge::test::wait_until_connected(fleet.host));
  REQUIRE(edge::test::wait_until_connected(fleet.controller));
  const std::size_t before = heartbeats.size();
  REQUIRE(heartbeats.wait_for_count(before + 3));
  const std::vector<HeartbeatMessage> seen = heartbeats.items();
  CHECK(seen.back().sequence > seen[before - 1].sequence);

  // The watcher caught up: a change written after the outage is applied.
  fleet.put("gw.a", fleet.copy_of("echo.after"));
  const auto after = fleet.settled(*agent, "gw.a", "echo.after");
  REQUIRE(after);
  CHECK(after->state == CopyState::Ready);

  // The agent stops cleanly while NATS is down.
  fleet.server.kill();
  REQUIRE(edge::test::eventually([&] { return !fleet.host.connected(); }));
  agent.reset();
  CHECK(fleet.cluster.invoke_on("gw.a", "echo", "still").result.output == "still");
}

TEST_CASE("node agent: a fetch nobody answers stays syncing and is tried again on its own") {
  Fleet fleet;
  NodeAgent agent(fleet.host, fleet.subjects, fleet.cluster, fleet.options());
  agent.start();
  // The controller is not up yet: no host holds the artifact.
  fleet.put("gw.a", fleet.copy_of("echo"));
  REQUIRE(edge::test::eventually([&] {
    const auto functions = agent.inventory("gw.a").functions;
    return !functions.empty() && !functions[0].error.empty();
  }));
  const auto waiting = agent.inventory("gw.a").functions.at(0);
  CHECK(waiting.state == CopyState::Syncing);  // not Failed: nothing is wrong with the content
  CHECK(waiting.error.find("no host holds it") != std::string::npos);
  CHECK(waiting.error.find("trying again in 2 s") != std::string::npos);
  CHECK(agent.inventory("gw.a").node.status == edge::EdgeNodeStatus::Syncing);

  // A holder appears; the same desired value (no new write) is fetched on retry.
  edge::nats::NatsClient holder_client(edge::test::client_options(fleet.server, "holder"));
  CountingHolder holder(holder_client, fleet.subjects, fleet.plugin_bytes);
  const auto echo = fleet.settled(agent, "gw.a", "echo");
  REQUIRE(echo);
  CHECK(echo->state == CopyState::Ready);
  CHECK(echo->error.empty());
  CHECK(edge::fleet::decode_call_reply(fleet.call("gw.a", "echo", "back"), "gw.a").output ==
        "back");
}

TEST_CASE("node agent: while a new version is fetched, the version running serves") {
  Fleet fleet;
  edge::nats::NatsClient holder_client(edge::test::client_options(fleet.server, "holder"));
  CountingHolder holder(holder_client, fleet.subjects, fleet.plugin_bytes);
  NodeAgent agent(fleet.host, fleet.subjects, fleet.cluster, fleet.options());
  agent.start();
  fleet.put("gw.a", fleet.copy_of("echo"));
  REQUIRE(fleet.settled(agent, "gw.a", "echo"));
  const auto call = [&](const std::string& input) {
    return edge::fleet::decode_call_reply(fleet.call("gw.a", "echo", input), "gw.a").output;
  };
  CHECK(call("abc") == "abc");

  // Version 2 is the reverse plugin, served slowly by the only host holding it.
  const std::string reverse = edge::test::file_bytes(edge::test::plugin("reverse"));
  DesiredCopy next = fleet.copy_of("echo");
  next.artifact = edge::fleet::manifest_of(edge::SyncState::from_data(reverse, 2));
  next.function.plugin_sha256 = next.artifact.sha256;
  const edge::nats::Subscription slow = holder_client.queue_subscribe(
      fleet.subjects.artifact_chunks_of(next.artifact.sha256), "holders",
      [&](const edge::nats::Message& message) {
        const auto [sha256, offset, length] = *edge::fleet::parse_chunk_request(message.payload);
        std::this_thread::sleep_for(20ms);
        holder_client.respond(message.reply_subject, "K" + reverse.substr(offset, length));
      });
  holder_client.flush(edge::test::kEventDeadline);
  fleet.put("gw.a", next);
  REQUIRE(edge::test::eventually([&] {
    const auto functions = agent.inventory("gw.a").functions;
    return !functions.empty() && functions[0].state == CopyState::Syncing;
  }));
  const auto syncing = agent.inventory("gw.a").functions.at(0);
  CHECK(syncing.stats.plugin_sha256 == fleet.manifest.sha256);  // version 1 is loaded
  CHECK(call("abc") == "abc");                                  // and serves meanwhile
  REQUIRE(edge::test::eventually([&] {
    const auto functions = agent.inventory("gw.a").functions;
    return !functions.empty() && functions[0].state == CopyState::Ready;
  }));
  CHECK(call("abc") == "cba");  // version 2
}
