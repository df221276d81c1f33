// edge-fleet-load: simulates many edge nodes in one process against a real
// controller (edge-host --controller) through a real nats-server. Each node
// heartbeats at the given interval and answers its inventory and echo calls;
// the controller registers them as remote nodes like real hosts.
//
//   edge-fleet-load --nats nats://127.0.0.1:4222 [--cluster edge] [--nodes 1000]
//                   [--interval-ms 1000] [--seconds 30] [--silence 10]
//
// --silence K: after half the run, K nodes stop heartbeating (so that the
// controller's stale detection can be watched: GET /v1/nodes on it).
// Prints what it sent, once a second.
#include "simulated_fleet.hpp"

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>

namespace {

using Clock = std::chrono::steady_clock;

struct Arguments {
  edge::fleet_load::SimulatedFleetOptions fleet;
  long interval_ms = 1000;
  long seconds = 30;
  long silence = 0;
};

long number(std::string_view option, const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value < 0) {
    throw std::invalid_argument(std::string(option) + ": expected a non-negative integer, got '" +
                                text + "'");
  }
  return value;
}

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  for (int index = 1; index < argc; ++index) {
    const std::string_view option = argv[index];
    if (index + 1 >= argc) throw std::invalid_argument(std::string(option) + " needs a value");
    const char* value = argv[++index];
    if (option == "--nats") {
      arguments.fleet.url = value;
    } else if (option == "--cluster") {
      arguments.fleet.cluster = value;
    } else if (option == "--nodes") {
      arguments.fleet.nodes = static_cast<int>(number(option, value));
    } else if (option == "--interval-ms") {
      arguments.interval_ms = std::max(1L, number(option, value));
    } else if (option == "--seconds") {
      arguments.seconds = number(option, value);
    } else if (option == "--silence") {
      arguments.silence = number(option, value);
    } else {
      throw std::invalid_argument("unknown option '" + std::string(option) + "'");
    }
  }
  if (arguments.fleet.url.empty()) throw std::invalid_argument("missing --nats URL");
  return arguments;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Arguments arguments = parse(argc, argv);
    edge::fleet_load::SimulatedFleet fleet(arguments.fleet);
    const auto start = Clock::now();
    const auto interval = std::chrono::milliseconds(arguments.interval_ms);
    const auto silence_at = start + std::chrono::seconds(arguments.seconds) / 2;
    std::uint64_t sent = 0;
    auto next_report = start + std::chrono::seconds(1);
    bool silenced = false;
    for (auto next = start; next < start + std::chrono::seconds(arguments.seconds);
         next += interval) {
      const bool silence = arguments.silence > 0 && Clock::now() >= silence_at;
      if (silence && !silenced) {
        silenced = true;
        std::cout << "silencing " << arguments.silence << " nodes from " << fleet.node_ids().front()
                  << std::endl;
      }
      sent += fleet.beat([&](std::size_t index) {
        return !silence || index >= static_cast<std::size_t>(arguments.silence);
      });
      fleet.flush();
      if (Clock::now() >= next_report) {
        next_report += std::chrono::seconds(1);
        std::cout << "heartbeats sent: " << sent
                  << ", inventory requests answered: " << fleet.inventory_requests() << std::endl;
      }
      std::this_thread::sleep_until(next + interval);
    }
    std::cout << "done: " << sent << " heartbeats from " << arguments.fleet.nodes << " nodes"
              << std::endl;
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "edge-fleet-load: " << error.what() << "\n";
    return 1;
  }
}
