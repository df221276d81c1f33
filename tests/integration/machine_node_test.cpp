// --machine-node: the node that is this machine heartbeats with the real
// CPU and memory figures of /proc, so placement sees real load.
#include "host_process.hpp"
#include "http_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <string>
#include <thread>

namespace edge::test {

TEST_CASE("the machine node's heartbeats carry the machine's real memory and CPU") {
  double machine_total_mb = 0;
  {
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    double kib = 0;
    while (meminfo >> key >> kib) {
      if (key == "MemTotal:") machine_total_mb = kib / 1024;
      meminfo.ignore(64, '\n');
    }
  }
  REQUIRE(machine_total_mb > 0);
  HostProcess host(
      "cluster: {heartbeat_timeout_seconds: 0.6}\n"
      "nodes:\n"
      "  - {id: this-box, resources: {memory_max_mb: 64}}\n"
      "  - {id: simulated, resources: {memory_max_mb: 64}}\n",
      {"--log-level", "warn", "--machine-node", "this-box"});
  const auto memory_max = [&](const std::string& node) {
    HttpConnection connection("127.0.0.1", host.port());
    const auto body = nlohmann::json::parse(connection.request("GET", "/v1/nodes/" + node).body);
    return body["resources"]["memory_max_mb"].get<double>();
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (memory_max("this-box") == 64 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(memory_max("this-box") == doctest::Approx(machine_total_mb).epsilon(0.01));
  CHECK(memory_max("simulated") == 64);  // only the machine node is sampled
  CHECK(host.stop(SIGTERM).code == 0);
}

TEST_CASE("--machine-node must name a node of the topology") {
  CHECK_THROWS_WITH_AS(
      HostProcess("nodes:\n  - id: a\n", {"--machine-node", "ghost"}, std::chrono::seconds(5)),
      doctest::Contains("ghost"), std::runtime_error);
}

}  // namespace edge::test
