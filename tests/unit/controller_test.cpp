// The controller over a real nats-server with real node agents (each over an
// EdgeCluster of its own, as in a node host) and the real echo plugin: nodes
// join from their heartbeats, functions are shipped and routed, and a
// corrupted artifact is refused, reported and never loaded.
#include "fleet/controller.hpp"

#include "fleet/node_agent.hpp"
#include "fleet/protocol.hpp"
#include "log/logger.hpp"
#include "nats/nats_client.hpp"
#include "nats_server.hpp"
#include "nats_test_support.hpp"
#include "quiet_logger.hpp"
#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <edge/cluster.hpp>
#include <edge/errors.hpp>

#include <doctest/doctest.h>

#include <memory>
#include <string>

namespace edge {
namespace {

using namespace std::chrono_literals;

// A node host: its own cluster with one node, served by a NodeAgent.
struct NodeHost {
  NodeHost(const test::NatsServerProcess& server, const fleet::Subjects& subjects,
           const std::filesystem::path& directory, const std::string& node_id, double cpu)
      : client(test::client_options(server, node_id)) {
    EdgeNode node(node_id);
    node.resources.cpu_percent = cpu;
    cluster.register_node(node);
    fleet::NodeAgentOptions options;
    options.node_ids = {node_id};
    options.heartbeat_interval = 100ms;
    options.artifact_dir = directory / node_id;
    options.fetch.chunk_timeout = 500ms;
    agent = std::make_unique<fleet::NodeAgent>(client, subjects, cluster, options);
    agent->start();
  }
  ~NodeHost() { agent.reset(); }
  EdgeCluster cluster;
  nats::NatsClient client;
  std::unique_ptr<fleet::NodeAgent> agent;
};

struct Fleet {
  explicit Fleet(bool idempotent = false) {
    FunctionSpec echo;
    echo.function = EdgeFunction("echo");
    echo.function.plugin = test::plugin("echo");
    echo.function.timeout_seconds = 2;
    echo.function.idempotent = idempotent;
    echo.placement = Placement::LeastLoaded;
    fleet::ControllerOptions options;
    options.heartbeat_timeout_seconds = 1;
    options.inventory_refresh = 200ms;
    options.functions = {echo};
    a = std::make_unique<NodeHost>(server, subjects, scratch.path(), "gw-a", 10);
    b = std::make_unique<NodeHost>(server, subjects, scratch.path(), "gw-b", 40);
    controller =
        std::make_unique<fleet::Controller>(client, subjects, cluster, quiet.logger, options);
  }
  ~Fleet() {
    controller.reset();
    a.reset();
    b.reset();
  }
  std::optional<fleet::InventoryEntry> entry(const NodeHost& host, const std::string& node_id) {
    for (const auto& entry : host.agent->inventory(node_id).functions) {
      if (entry.function_id == "echo") return entry;
    }
    return std::nullopt;
  }

  test::ScratchDir scratch{"edge-controller"};
  test::NatsServerProcess server;
  const fleet::Subjects subjects{"plant"};
  test::QuietLogger quiet;
  std::unique_ptr<NodeHost> a;
  std::unique_ptr<NodeHost> b;
  EdgeCluster cluster;  // the controller's view
  nats::NatsClient client{test::client_options(server, "controller")};
  std::unique_ptr<fleet::Controller> controller;
};

TEST_CASE("controller: nodes join from heartbeats; a function is shipped, verified and routed") {
  Fleet fleet;
  fleet.controller->start();
  REQUIRE(fleet.controller->wait_until_restored(test::kEventDeadline));
  REQUIRE(test::eventually([&] { return fleet.cluster.nodes().size() == 2; }));
  CHECK(fleet.cluster.runtime("gw-a") == nullptr);  // remote: no runtime in this process
  CHECK(fleet.cluster.nodes_running("echo") == std::vector<std::string>{"gw-a"});  // least loaded

  // Calls fail fast (not ready) until the node has fetched and verified it.
  std::string output;
  REQUIRE(test::eventually([&] {
    try {
      output = fleet.cluster.invoke("echo", "over NATS");
      return true;
    } catch (const EdgeExecutionError&) {
      return false;
    }
  }));
  CHECK(output == "over NATS");
  CHECK(fleet.a->cluster.functions_on("gw-a") == std::vector<std::string>{"echo"});
  CHECK(fleet.b->cluster.functions_on("gw-b").empty());
  const auto copy = fleet.entry(*fleet.a, "gw-a");
  REQUIRE(copy);
  CHECK(copy->state == fleet::CopyState::Ready);

  // The controller's view shows the node's own counters, once its inventory changed.
  REQUIRE(test::eventually([&] {
    const auto stats = fleet.cluster.function_stats("echo");
    return stats.size() == 1 && stats[0].second.is_warm;
  }));
  const auto counters = fleet.controller->counters();
  CHECK(counters.registrations == 2);
  CHECK(counters.heartbeats > 0);
  CHECK(counters.rejected_heartbeats == 0);

  // Drained in the controller's view: the function moves to the other host.
  REQUIRE(fleet.cluster.drain_node("gw-a"));
  CHECK(fleet.cluster.nodes_running("echo") == std::vector<std::string>{"gw-b"});
  REQUIRE(test::eventually([&] {
    return fleet.a->cluster.functions_on("gw-a").empty() &&
           fleet.b->cluster.functions_on("gw-b") == std::vector<std::string>{"echo"};
  }));
  REQUIRE(test::eventually([&] {
    try {
      return fleet.cluster.invoke_routed("echo", "moved").node_id == "gw-b";
    } catch (const EdgeExecutionError&) {
      return false;
    }
  }));
}

TEST_CASE("controller: a corrupted artifact is refused by every node, reported, never loaded") {
  Fleet fleet;
  const std::string bytes = test::file_bytes(test::plugin("echo"));
  const fleet::ArtifactManifest manifest = fleet::manifest_of(SyncState::from_data(bytes, 1));
  // Something in the path flips a byte: it answers for the content first
  // (holders are asked before the controller).
  nats::NatsClient tamper_client(test::client_options(fleet.server, "tamper"));
  std::optional<nats::Subscription> tamper = tamper_client.queue_subscribe(
      fleet.subjects.artifact_chunks_of(manifest.sha256), "holders",
      [&](const nats::Message& message) {
        const auto [sha256, offset, length] = *edge::fleet::parse_chunk_request(message.payload);
        std::string reply = "K" + bytes.substr(offset, length);
        reply[1 + reply.size() / 2 % (reply.size() - 1)] ^= 0x20;
        tamper_client.respond(message.reply_subject, reply);
      });
  tamper_client.flush(test::kEventDeadline);
  fleet.controller->start();
  REQUIRE(fleet.controller->wait_until_restored(test::kEventDeadline));

  // gw-a fails verification; the controller moves echo to gw-b, which fails
  // too; with both refusing, echo stays where it is and nothing serves it.
  REQUIRE(test::eventually([&] {
    const auto on_a = fleet.entry(*fleet.a, "gw-a");
    const auto on_b = fleet.entry(*fleet.b, "gw-b");
    return (on_a && on_a->state == fleet::CopyState::Failed) ||
           (on_b && on_b->state == fleet::CopyState::Failed);
  }));
  for (NodeHost* host : {fleet.a.get(), fleet.b.get()}) {
    CHECK(host->cluster.functions_on(host == fleet.a.get() ? "gw-a" : "gw-b").empty());
  }
  const auto failed =
      fleet.entry(*fleet.a, "gw-a") ? fleet.entry(*fleet.a, "gw-a") : fleet.entry(*fleet.b, "gw-b");
  REQUIRE(failed);
  const bool named = failed->error.find("MD5 mismatch") != std::string::npos ||
                     failed->error.find("SHA-256 mismatch") != std::string::npos;
  CHECK_MESSAGE(named, failed->error);
  CHECK_THROWS_AS(fleet.cluster.invoke("echo", "x"), EdgeExecutionError);
  for (const std::string node : {"gw-a", "gw-b"}) {
    const auto artifacts = fleet.scratch.path() / node;
    CHECK_FALSE(std::filesystem::exists(artifacts / (manifest.sha256 + ".so")));
  }

  // The tampering stops: the nodes try again on their own and get the real bytes.
  tamper.reset();
  REQUIRE(test::eventually(
      [&] {
        try {
          return fleet.cluster.invoke("echo", "clean") == "clean";
        } catch (const EdgeExecutionError&) {
          return false;
        }
      },
      20s));
}

TEST_CASE("controller: an idempotent call the node does not answer is retried on another") {
  Fleet fleet(/*idempotent=*/true);
  fleet.controller->start();
  REQUIRE(fleet.controller->wait_until_restored(test::kEventDeadline));
  REQUIRE(test::eventually([&] {
    try {
      return fleet.cluster.invoke("echo", "x") == "x";
    } catch (const EdgeExecutionError&) {
      return false;
    }
  }));
  // Give gw-b a copy too (deploy_to_all), then silence gw-a's host: its
  // agent is gone, so nobody answers its calls.
  EdgeFunction echo = *fleet.cluster.function("echo");
  REQUIRE(fleet.cluster.deploy_to_all(echo) == 2);
  // Until the controller has read gw-b's inventory (the copy verified and
  // ready), gw-b would not be tried.
  REQUIRE(test::eventually([&] {
    try {
      fleet.cluster.invoke_on("gw-b", "echo", "warm");
    } catch (const std::exception&) {  // not there yet, or not ready
      return false;
    }
    const auto stats = fleet.cluster.function_stats("echo");
    return stats.size() == 2 && stats[0].second.is_warm && stats[1].second.is_warm;
  }));
  fleet.a->agent.reset();
  const EdgeCluster::RoutedCall call = fleet.cluster.invoke_routed("echo", "retried");
  CHECK(call.result.output == "retried");
  CHECK(call.node_id == "gw-b");

  // Not idempotent: the same silence fails the call, naming the node.
  echo.idempotent = false;
  REQUIRE(fleet.cluster.deploy_to_all(echo) == 2);
  CHECK_THROWS_WITH_AS(fleet.cluster.invoke("echo", "once"),
                       doctest::Contains("node 'gw-a' is not listening for calls"),
                       NodeUnavailableError);
}

}  // namespace
}  // namespace edge
