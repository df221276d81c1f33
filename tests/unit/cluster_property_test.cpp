// Property-based test of EdgeCluster: random sequences of register /
// heartbeat (valid and invalid figures) / deploy / drain / resume / stale /
// deregister / remove / invoke, with the cluster's invariants checked after
// every step. A failing seed is printed; rerun with EDGE_PROPERTY_SEED=N.
#include <edge/cluster.hpp>
#include <edge/errors.hpp>

#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

using namespace edge;

namespace {

const std::vector<std::string> kNodeIds = {"n0", "n1", "n2", "n3", "n4", "n5"};
const std::vector<std::string> kFunctionIds = {"f0", "f1", "f2", "f3", "f4", "f5"};
const std::vector<std::string> kCapabilities = {"gpu", "gpio"};

class Model {
 public:
  explicit Model(unsigned seed) : random_(seed) {}

  void step(EdgeCluster& cluster) {
    switch (pick(10)) {
      case 0:
        register_node(cluster);
        break;
      case 1:
        heartbeat(cluster);
        break;
      case 2:
        deploy(cluster, Placement::LeastLoaded);
        break;
      case 3:
        deploy(cluster, Placement::All);
        break;
      case 4:
        cluster.drain_node(any_node());
        break;
      case 5:
        cluster.resume_node(any_node());
        break;
      case 6:
        // 0 s: every node not drained is stale now; a long timeout: none is.
        cluster.detect_stale_nodes(pick(2) == 0 ? 0.0 : 3600.0);
        break;
      case 7:
        cluster.deregister_node(any_node());
        break;
      case 8:
        cluster.remove_function(any_function());
        placements_.erase(last_function_);
        break;
      default:
        invoke(cluster);
        break;
    }
  }

  void check(EdgeCluster& cluster) const {
    const std::vector<EdgeNode> nodes = cluster.nodes();
    std::map<std::string, EdgeNodeStatus> status;
    for (const EdgeNode& node : nodes) status[node.id] = node.status;

    for (const std::string& id : cluster.function_ids()) {
      const std::vector<std::string> running = cluster.nodes_running(id);
      const std::optional<Placement> placement = cluster.placement(id);
      REQUIRE(placement.has_value());
      if (*placement == Placement::LeastLoaded) {
        CHECK_MESSAGE(running.size() <= 1, "least-loaded function " << id << " runs twice");
        for (const std::string& node : running) {
          CHECK_MESSAGE(status[node] != EdgeNodeStatus::Offline,
                        "least-loaded " << id << " left on offline node " << node);
        }
      }
      for (const std::string& node : running) {
        // (Whether the node still qualifies is not an invariant: a node
        // that re-registers with fewer capabilities or reports less memory
        // keeps what it runs, by design.)
        CHECK_MESSAGE(status[node] != EdgeNodeStatus::Maintenance,
                      id << " runs on drained node " << node);
      }
    }

    const ClusterHealth health = cluster.health();
    CHECK(health.total_nodes == nodes.size());
    CHECK(health.online + health.offline + health.degraded + health.syncing + health.maintenance ==
          health.total_nodes);
    std::size_t copies = 0;
    std::size_t pending = 0;
    for (const std::string& id : cluster.function_ids()) {
      const std::size_t running = cluster.nodes_running(id).size();
      copies += running;
      pending += running == 0 ? 1 : 0;
    }
    CHECK(health.total_functions == copies);
    CHECK(health.pending_functions == pending);
    CHECK(health.healthy_nodes <= health.online);
  }

 private:
  std::size_t pick(std::size_t count) {
    return std::uniform_int_distribution<std::size_t>(0, count - 1)(random_);
  }
  const std::string& any_node() { return kNodeIds[pick(kNodeIds.size())]; }
  const std::string& any_function() {
    last_function_ = kFunctionIds[pick(kFunctionIds.size())];
    return last_function_;
  }

  void register_node(EdgeCluster& cluster) {
    EdgeNode node(any_node());
    for (const std::string& capability : kCapabilities) {
      if (pick(2) == 0) node.capabilities.push_back(capability);
    }
    node.max_functions = static_cast<int>(1 + pick(4));
    cluster.register_node(node);
  }

  void heartbeat(EdgeCluster& cluster) {
    const std::string& id = any_node();
    const bool known = cluster.node(id).has_value();
    ResourceUsage usage{static_cast<double>(pick(101)), static_cast<double>(pick(1024)), 1024};
    const std::size_t kind = pick(6);
    bool invalid = true;
    if (kind == 0) {
      usage.cpu_percent = std::numeric_limits<double>::quiet_NaN();
    } else if (kind == 1) {
      usage.memory_mb = -5;
    } else if (kind == 2) {
      usage.cpu_percent = 1e300;
    } else if (kind == 3) {
      usage.memory_max_mb = std::numeric_limits<double>::infinity();
    } else {
      invalid = false;
    }
    if (!known || invalid) {
      const std::optional<EdgeNode> before = known ? cluster.node(id) : std::nullopt;
      CHECK_THROWS_AS(cluster.heartbeat(id, usage), std::invalid_argument);
      if (before) {
        // Refused figures change nothing (placement is not skewed by them).
        const std::optional<EdgeNode> after = cluster.node(id);
        CHECK(after->resources.cpu_percent == before->resources.cpu_percent);
        CHECK(after->resources.memory_mb == before->resources.memory_mb);
        CHECK(after->status == before->status);
      }
      return;
    }
    cluster.heartbeat(id, usage);
  }

  void deploy(EdgeCluster& cluster, Placement placement) {
    EdgeFunction function(any_function());
    function.handler = [](std::string_view input) { return std::string(input); };
    function.memory_mb = static_cast<double>(16 << pick(4));
    if (pick(3) == 0) function.required_capabilities = {kCapabilities[pick(kCapabilities.size())]};
    // One id keeps one placement (switching is a separate, tested path).
    const auto known = placements_.find(function.id);
    if (known != placements_.end()) placement = known->second;
    placements_[function.id] = placement;
    if (placement == Placement::All) {
      cluster.deploy_to_all(function);
    } else {
      cluster.deploy_least_loaded(function);
    }
  }

  void invoke(EdgeCluster& cluster) {
    const std::string& id = any_function();
    if (!cluster.function(id)) {
      CHECK_THROWS_AS(cluster.invoke(id, "x"), std::invalid_argument);
      return;
    }
    try {
      const std::string output = cluster.invoke(id, "x");
      CHECK(output == "x");
    } catch (const EdgeExecutionError&) {
      // Known but nowhere servable now (pending, or only on offline nodes):
      // a clear error, never a wrong answer.
    }
  }

  std::mt19937 random_;
  std::string last_function_;
  std::map<std::string, Placement> placements_;
};

}  // namespace

TEST_CASE("random operation sequences keep the cluster's invariants") {
  unsigned first_seed = 1;
  unsigned seeds = 200;
  if (const char* fixed = std::getenv("EDGE_PROPERTY_SEED")) {
    first_seed = static_cast<unsigned>(std::strtoul(fixed, nullptr, 10));
    seeds = 1;
  }
  for (unsigned seed = first_seed; seed < first_seed + seeds; ++seed) {
    CAPTURE(seed);
    EdgeCluster cluster;
    Model model(seed);
    for (int step = 0; step < 150; ++step) {
      model.step(cluster);
      model.check(cluster);
    }
  }
}
