// Issue 6's failure behaviour with real processes: a nats-server on a random
// loopback port, a controller edge-host and three node edge-hosts, each its
// own process, driven over the controller's HTTP API.
#include "host_process.hpp"
#include "http_client.hpp"
#include "nats_server.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr double kHeartbeatTimeout = 1.5;

std::string cluster_section(const NatsServerProcess& server, bool controller) {
  return "cluster: {name: itest, nats: \"" + server.url() +
         "\", controller: " + (controller ? "true" : "false") +
         ", heartbeat_timeout_seconds: " + std::to_string(kHeartbeatTimeout) +
         ", heartbeat_interval_seconds: 0.2}\n";
}

std::string controller_topology(const NatsServerProcess& server) {
  return cluster_section(server, true) +
         "functions:\n"
         "  - {id: echo, plugin: echo, placement: least_loaded, idempotent: true}\n"
         "  - {id: reverse, plugin: reverse, placement: all}\n";
}

std::string node_topology(const NatsServerProcess& server, const std::string& node, int load) {
  return cluster_section(server, false) + "nodes:\n  - {id: " + node +
         ", max_functions: 4, resources: {cpu_percent: " + std::to_string(load) +
         ", memory_mb: 100, memory_max_mb: 1024}}\n";
}

nlohmann::json get_json(std::uint16_t port, const std::string& target) {
  HttpConnection connection("127.0.0.1", port);
  const HttpReply reply = connection.request("GET", target);
  if (reply.status != 200) return nullptr;
  return nlohmann::json::parse(reply.body);
}

HttpReply invoke(std::uint16_t port, const std::string& function, const std::string& input) {
  HttpConnection connection("127.0.0.1", port);
  return connection.request("POST", "/v1/functions/" + function + "/invoke", input);
}

std::string node_of(const HttpReply& reply) {
  const std::string* node = reply.header("x-edge-node");
  return node != nullptr ? *node : "";
}

// Polls `condition` every 50 ms until it holds or `deadline` passes.
bool eventually(const std::function<bool()>& condition, milliseconds deadline = seconds(20)) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return true;
}

// The nodes the controller has running `function`.
std::vector<std::string> placed_on(std::uint16_t controller_port, const std::string& function) {
  const nlohmann::json view = get_json(controller_port, "/v1/functions/" + function);
  if (view.is_null()) return {};
  return view["nodes"].get<std::vector<std::string>>();
}

std::string status_of(std::uint16_t controller_port, const std::string& node) {
  const nlohmann::json view = get_json(controller_port, "/v1/nodes/" + node);
  return view.is_null() ? "" : view["status"].get<std::string>();
}

// The functions a node host runs on its own node, by its own API.
std::vector<std::string> running_on(std::uint16_t node_port, const std::string& node) {
  const nlohmann::json view = get_json(node_port, "/v1/nodes/" + node);
  return view.is_null() ? std::vector<std::string>{}
                        : view["functions"].get<std::vector<std::string>>();
}

struct Fleet {
  NatsServerProcess server;
  std::unique_ptr<HostProcess> controller;
  std::map<std::string, std::unique_ptr<HostProcess>> nodes;

  Fleet() {
    // Node loads differ, so that least-loaded placement is predictable.
    nodes["n1"] = std::make_unique<HostProcess>(node_topology(server, "n1", 10));
    nodes["n2"] = std::make_unique<HostProcess>(node_topology(server, "n2", 30));
    nodes["n3"] = std::make_unique<HostProcess>(node_topology(server, "n3", 50));
    start_controller();
  }
  void start_controller() {
    controller = std::make_unique<HostProcess>(controller_topology(server));
  }
  std::uint16_t port() const { return controller->port(); }
  std::uint16_t port(const std::string& node) const { return nodes.at(node)->port(); }

  // Every node joined and both functions run where they should, verified.
  bool settled() const {
    for (const auto& [id, host] : nodes) {
      if (status_of(port(), id) != "online") return false;
    }
    return placed_on(port(), "echo").size() == 1 && placed_on(port(), "reverse").size() == 3 &&
           invoke(port(), "echo", "ping").status == 200;
  }
  // How many node hosts really run `function` (by their own APIs).
  int copies_of(const std::string& function) const {
    int copies = 0;
    for (const auto& [id, host] : nodes) {
      const std::vector<std::string> functions = running_on(host->port(), id);
      copies += static_cast<int>(std::count(functions.begin(), functions.end(), function));
    }
    return copies;
  }
};

}  // namespace

TEST_CASE("cluster over NATS: remote nodes join, functions are shipped, verified and called") {
  Fleet fleet;
  REQUIRE(eventually([&] { return fleet.settled(); }));
  CHECK(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n1"});  // least loaded

  const HttpReply echo = invoke(fleet.port(), "echo", "hello over NATS");
  CHECK(echo.status == 200);
  CHECK(echo.body == "hello over NATS");
  CHECK(node_of(echo) == "n1");
  const HttpReply reversed = invoke(fleet.port(), "reverse", "abc");
  CHECK(reversed.status == 200);
  CHECK(reversed.body == "cba");

  // Each node host runs what it was given, loaded from the verified copy,
  // and serves it on its own API too.
  CHECK(fleet.copies_of("echo") == 1);
  CHECK(fleet.copies_of("reverse") == 3);
  CHECK(invoke(fleet.port("n2"), "reverse", "xyz").body == "zyx");

  CHECK(get_json(fleet.port(), "/v1/nodes/n2")["host"] == "remote");
  CHECK(get_json(fleet.port("n2"), "/v1/nodes/n2")["host"] == "local");
  const nlohmann::json health = get_json(fleet.port(), "/v1/health");
  CHECK(health["total_nodes"] == 3);
  CHECK(health["online"] == 3);
}

TEST_CASE("cluster over NATS: a node paused past the timeout goes offline, fails over, rejoins") {
  Fleet fleet;
  REQUIRE(eventually([&] { return fleet.settled(); }));
  REQUIRE(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n1"});

  REQUIRE(fleet.nodes["n1"]->process().send_signal(SIGSTOP));
  const auto paused = std::chrono::steady_clock::now();
  REQUIRE(eventually([&] { return status_of(fleet.port(), "n1") == "offline"; }));
  const double detected =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - paused).count();
  CHECK(detected <= kHeartbeatTimeout + 1.5);
  // echo (least loaded) moved to the next least-loaded node and answers there.
  REQUIRE(eventually([&] {
    return placed_on(fleet.port(), "echo") == std::vector<std::string>{"n2"} &&
           invoke(fleet.port(), "echo", "x").status == 200;
  }));
  CHECK(node_of(invoke(fleet.port(), "echo", "after failover")) == "n2");

  REQUIRE(fleet.nodes["n1"]->process().send_signal(SIGCONT));
  REQUIRE(eventually([&] { return status_of(fleet.port(), "n1") == "online"; }));
  // n1 reconciles: its desired state no longer holds echo, so it unloads it.
  REQUIRE(eventually([&] { return fleet.copies_of("echo") == 1; }));
  CHECK(running_on(fleet.port("n2"), "n2") == std::vector<std::string>{"echo", "reverse"});
  CHECK(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n2"});
}

TEST_CASE("cluster over NATS: nats-server killed and restarted; hosts reconnect, nothing lost") {
  Fleet fleet;
  REQUIRE(eventually([&] { return fleet.settled(); }));
  fleet.server.kill();
  // Nodes keep serving what they run on their own APIs (offline autonomy).
  CHECK(invoke(fleet.port("n1"), "echo", "offline").body == "offline");
  std::this_thread::sleep_for(milliseconds(500));
  fleet.server.restart();
  REQUIRE(eventually([&] { return fleet.settled(); }, seconds(30)));
  CHECK(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n1"});
  CHECK(fleet.copies_of("echo") == 1);
  CHECK(fleet.copies_of("reverse") == 3);
}

TEST_CASE("cluster over NATS: a restarted controller rebuilds its view without failing over") {
  Fleet fleet;
  REQUIRE(eventually([&] { return fleet.settled(); }));
  // Move echo off the least-loaded node (drain n1, then resume it): echo now
  // runs on n2, where a fresh placement would not put it. A controller that
  // forgot its placements would move it back to n1.
  {
    HttpConnection connection("127.0.0.1", fleet.port());
    REQUIRE(connection.request("POST", "/v1/nodes/n1/drain").status == 200);
    REQUIRE(connection.request("POST", "/v1/nodes/n1/resume").status == 200);
  }
  REQUIRE(eventually([&] { return fleet.settled(); }));
  REQUIRE(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n2"});
  REQUIRE(eventually([&] { return fleet.copies_of("echo") == 1; }));

  REQUIRE(fleet.controller->process().send_signal(SIGKILL));
  fleet.controller->process().wait(seconds(5));
  fleet.start_controller();
  REQUIRE(eventually([&] { return fleet.settled(); }));
  CHECK(placed_on(fleet.port(), "echo") == std::vector<std::string>{"n2"});
  CHECK(status_of(fleet.port(), "n1") == "online");
  const nlohmann::json health = get_json(fleet.port(), "/v1/health");
  CHECK(health["offline"] == 0);
  // Nothing was rewritten: the nodes kept every copy (no cold start anywhere).
  std::this_thread::sleep_for(milliseconds(500));
  CHECK(fleet.copies_of("echo") == 1);
  CHECK(running_on(fleet.port("n2"), "n2") == std::vector<std::string>{"echo", "reverse"});
  CHECK(fleet.copies_of("reverse") == 3);
}

TEST_CASE("cluster over NATS: a host whose server is down at boot serves alone, then joins") {
  NatsServerProcess server;
  server.stop();  // the port stays this server's: restart() comes back on it
  HostProcess node(node_topology(server, "n1", 10) +
                   "functions:\n  - {id: local-echo, plugin: echo}\n");
  // Its own topology's function serves at once, without any cluster.
  CHECK(invoke(node.port(), "local-echo", "alone").body == "alone");

  server.restart();
  HostProcess controller(controller_topology(server));
  REQUIRE(eventually([&] { return status_of(controller.port(), "n1") == "online"; }));
  REQUIRE(eventually([&] { return invoke(controller.port(), "echo", "joined").status == 200; }));
  CHECK(node_of(invoke(controller.port(), "echo", "x")) == "n1");
  CHECK(invoke(node.port(), "local-echo", "still").body == "still");
}

}  // namespace edge::test
