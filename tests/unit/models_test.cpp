#include <edge/models.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

using namespace edge;

TEST_CASE("status names") {
  CHECK(to_string(EdgeNodeStatus::Online) == "online");
  CHECK(to_string(EdgeNodeStatus::Offline) == "offline");
  CHECK(to_string(EdgeNodeStatus::Degraded) == "degraded");
  CHECK(to_string(EdgeNodeStatus::Syncing) == "syncing");
  CHECK(to_string(EdgeNodeStatus::Maintenance) == "maintenance");
}

TEST_CASE("resource usage: memory percent and overload thresholds") {
  ResourceUsage usage;
  CHECK(usage.memory_max_mb == 1024);
  CHECK(usage.memory_percent() == 0);
  usage.memory_mb = 512;
  CHECK(usage.memory_percent() == doctest::Approx(50));
  CHECK_FALSE(usage.is_overloaded());
  usage.cpu_percent = 90;
  CHECK_FALSE(usage.is_overloaded());  // strictly above 90
  usage.cpu_percent = 90.5;
  CHECK(usage.is_overloaded());
  usage.cpu_percent = 10;
  usage.memory_mb = 922;  // 90.04 %
  CHECK(usage.is_overloaded());
  usage.memory_max_mb = 0;
  CHECK(usage.memory_percent() == 0);
}

TEST_CASE("resource usage validity rejects NaN, negatives and cpu above 100") {
  CHECK(ResourceUsage{}.is_valid());
  CHECK_FALSE(ResourceUsage{NAN, 0, 1024}.is_valid());
  CHECK_FALSE(ResourceUsage{-1, 0, 1024}.is_valid());
  CHECK_FALSE(ResourceUsage{101, 0, 1024}.is_valid());
  CHECK_FALSE(ResourceUsage{0, INFINITY, 1024}.is_valid());
  CHECK_FALSE(ResourceUsage{0, 0, -5}.is_valid());
}

TEST_CASE("node health, capabilities, heartbeat and JSON") {
  EdgeNode node{"gw-1", "Gateway 1", "hall A"};
  node.capabilities = {"gpio", "camera"};
  CHECK(node.status == EdgeNodeStatus::Online);
  CHECK(node.max_functions == 10);
  CHECK(node.is_healthy());
  CHECK(node.has_capability("gpio"));
  CHECK_FALSE(node.has_capability("gpu"));
  node.resources.cpu_percent = 95;
  CHECK_FALSE(node.is_healthy());
  node.resources.cpu_percent = 5;
  node.status = EdgeNodeStatus::Degraded;
  CHECK_FALSE(node.is_healthy());

  const auto before = node.last_heartbeat;
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  node.heartbeat();
  CHECK(node.last_heartbeat > before);

  const nlohmann::json json = node.to_json();
  CHECK(json["id"] == "gw-1");
  CHECK(json["name"] == "Gateway 1");
  CHECK(json["location"] == "hall A");
  CHECK(json["status"] == "degraded");
  CHECK(json["capabilities"] == nlohmann::json({"gpio", "camera"}));
  CHECK(json["resources"]["cpu_percent"] == 5.0);
  CHECK(json["resources"]["memory_max_mb"] == 1024.0);
  CHECK(json["resources"].contains("memory_percent"));
  CHECK(json["resources"]["is_overloaded"] == false);
  CHECK(json["max_functions"] == 10);
  CHECK(json["is_healthy"] == false);
}

TEST_CASE("a function runs on a node with every capability and enough memory") {
  EdgeFunction function{"f", "f"};
  CHECK(function.memory_mb == 128);
  CHECK(function.timeout_seconds == 30);
  EdgeNode node{"n", "n"};
  CHECK(function.can_run_on(node));
  function.required_capabilities = {"gpio", "camera"};
  CHECK_FALSE(function.can_run_on(node));
  node.capabilities = {"camera", "gpio"};
  CHECK(function.can_run_on(node));
  function.memory_mb = 2048;
  CHECK_FALSE(function.can_run_on(node));
  node.resources.memory_max_mb = 2048;
  CHECK(function.can_run_on(node));
}
