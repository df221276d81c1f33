// EdgeCluster over nodes whose functions run elsewhere (a NodeBackend that is
// not a local runtime): placement, health, invoke routing and retry, and the
// controller's calls (assign, unassign, restore, invoke_on).
#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/node_backend.hpp>

#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace edge;

namespace {

// A node of another host, as the cluster sees it: records what it is asked to
// do, and answers calls as "<node>:<input>" unless told to fail. Only touched
// from the test's thread.
class RecordingBackend final : public NodeBackend {
 public:
  explicit RecordingBackend(std::string node_id) : node_id_(std::move(node_id)) {}

  // What the cluster asked of it, in order.
  std::vector<std::string> deploys;
  std::vector<std::string> undeploys;
  int calls = 0;
  // Behaviour the test sets.
  std::map<std::string, std::string, std::less<>> refusals;  // function id -> why
  std::set<std::string, std::less<>> not_serving;
  bool unavailable = false;

  // A copy the node already runs (it kept running while the controller restarted).
  void already_runs(const EdgeFunction& function) { functions_[function.id] = function; }

  void update_node(const EdgeNode& /*node*/) override {}
  void deploy(const EdgeFunction& function) override {
    deploys.push_back(function.id);
    functions_[function.id] = function;
  }
  void undeploy(std::string_view function_id) override {
    undeploys.emplace_back(function_id);
    if (const auto position = functions_.find(function_id); position != functions_.end())
      functions_.erase(position);
  }
  bool has_function(std::string_view function_id) const override {
    return functions_.find(function_id) != functions_.end();
  }
  std::size_t function_count() const override { return functions_.size(); }
  std::vector<std::string> function_ids() const override {
    std::vector<std::string> ids;
    for (const auto& [id, function] : functions_) ids.push_back(id);
    return ids;
  }
  FunctionStats function_stats(std::string_view function_id) const override {
    FunctionStats stats;
    stats.function_id = std::string(function_id);
    return stats;
  }
  std::uint64_t total_invocations() const override { return static_cast<std::uint64_t>(calls); }
  std::uint64_t cold_start_count() const override { return 0; }
  std::int64_t in_flight() const override { return 0; }
  std::optional<std::string> refusal(std::string_view function_id) const override {
    const auto position = refusals.find(function_id);
    if (position == refusals.end()) return std::nullopt;
    return position->second;
  }
  bool serves(std::string_view function_id) const override {
    return not_serving.find(function_id) == not_serving.end();
  }
  EdgeRuntime::CallResult invoke(std::string_view function_id, std::string_view input) override {
    if (!has_function(function_id))
      throw std::invalid_argument("unknown function '" + std::string(function_id) + "'");
    ++calls;
    if (unavailable) throw NodeUnavailableError("node '" + node_id_ + "' did not answer");
    return {node_id_ + ":" + std::string(input), false, 1};
  }

 private:
  std::string node_id_;
  std::map<std::string, EdgeFunction, std::less<>> functions_;
};

EdgeNode make_node(const std::string& id, double cpu = 0, int max_functions = 10) {
  EdgeNode node{id, id};
  node.resources.cpu_percent = cpu;
  node.max_functions = max_functions;
  return node;
}

EdgeFunction make_function(const std::string& id, std::vector<std::string> capabilities = {}) {
  EdgeFunction function{id, id};
  function.handler = [](std::string_view input) { return "local:" + std::string(input); };
  function.required_capabilities = std::move(capabilities);
  return function;
}

// Registers a node backed by a RecordingBackend; the pointer is valid while
// the node is registered.
RecordingBackend& add_remote(EdgeCluster& cluster, const EdgeNode& node) {
  auto backend = std::make_unique<RecordingBackend>(node.id);
  RecordingBackend& recording = *backend;
  cluster.register_node(node, std::move(backend));
  return recording;
}

using Ids = std::vector<std::string>;

}  // namespace

TEST_CASE("a remote node takes least-loaded placements and counts in health like a local one") {
  EdgeCluster cluster;
  cluster.register_node(make_node("local", 50));
  RecordingBackend& remote = add_remote(cluster, make_node("remote", 10));
  CHECK(cluster.runtime("remote") == nullptr);
  CHECK(cluster.runtime("local") != nullptr);

  CHECK(cluster.deploy_least_loaded(make_function("f")) == std::optional<std::string>("remote"));
  CHECK(remote.deploys == Ids{"f"});
  CHECK(cluster.functions_on("remote") == Ids{"f"});
  CHECK(cluster.functions_on("local").empty());
  CHECK(cluster.functions_on("ghost").empty());

  const EdgeCluster::RoutedCall call = cluster.invoke_routed("f", "x");
  CHECK(call.node_id == "remote");
  CHECK(call.result.output == "remote:x");

  cluster.deploy_to_all(make_function("g"));
  CHECK(cluster.nodes_running("g") == Ids{"local", "remote"});
  const ClusterHealth health = cluster.health();
  CHECK(health.total_nodes == 2);
  CHECK(health.online == 2);
  CHECK(health.healthy_nodes == 2);
  CHECK(health.total_functions == 3);  // f and g on remote, g on local
  CHECK(health.total_invocations == 1);
  CHECK(health.status == "healthy");
}

TEST_CASE("a node that refuses a function is not given it, and the plan says why") {
  EdgeCluster cluster;
  cluster.register_node(make_node("local", 50));
  RecordingBackend& remote = add_remote(cluster, make_node("remote"));
  remote.refusals["f"] = "plugin failed verification: sha256 mismatch";

  CHECK(cluster.deploy_least_loaded(make_function("f")) == std::optional<std::string>("local"));
  CHECK(cluster.deploy_to_all(make_function("f")) == 1);
  CHECK(remote.deploys.empty());
  for (const Placement placement : {Placement::LeastLoaded, Placement::All}) {
    const PlacementPlan plan = cluster.plan(make_function("f"), placement);
    CHECK(plan.nodes == Ids{"local"});
    REQUIRE(plan.rejected.size() == 1);
    CHECK(plan.rejected[0].first == "remote");
    CHECK(plan.rejected[0].second == "plugin failed verification: sha256 mismatch");
  }
  // Other functions still go there.
  CHECK(cluster.deploy_least_loaded(make_function("g")) == std::optional<std::string>("remote"));
}

TEST_CASE("routing skips a remote node that does not serve the function yet") {
  EdgeCluster cluster;
  cluster.register_node(make_node("local", 50));
  RecordingBackend& remote = add_remote(cluster, make_node("remote"));
  cluster.deploy_to_all(make_function("f"));
  remote.not_serving.insert("f");
  CHECK(cluster.invoke_routed("f", "x").node_id == "local");
  CHECK(remote.calls == 0);
  remote.not_serving.clear();
  CHECK(cluster.invoke_routed("f", "x").node_id == "remote");  // the less loaded one again

  CHECK(cluster.can_serve("f"));
  cluster.drain_node("local");
  remote.not_serving.insert("f");
  CHECK_FALSE(cluster.can_serve("f"));  // what the HTTP API answers 422 for
  CHECK_THROWS_AS(cluster.invoke("f", "x"), EdgeExecutionError);
  remote.not_serving.clear();
  CHECK(cluster.can_serve("f"));
  CHECK_FALSE(cluster.can_serve("unknown"));
}

TEST_CASE("a Syncing node serves when no other node can, after any node in service") {
  EdgeCluster cluster;
  EdgeNode syncing = make_node("syncing");
  syncing.status = EdgeNodeStatus::Syncing;
  add_remote(cluster, syncing);
  cluster.assign(make_function("f"), "syncing");
  CHECK(cluster.invoke_routed("f", "x").node_id == "syncing");

  add_remote(cluster, make_node("online", 60));
  cluster.assign(make_function("f"), "online");
  CHECK(cluster.invoke_routed("f", "x").node_id == "online");  // healthy beats syncing
}

TEST_CASE("an idempotent call a node did not answer is retried once, on another node") {
  EdgeCluster cluster;
  RecordingBackend& first = add_remote(cluster, make_node("first", 0));
  RecordingBackend& second = add_remote(cluster, make_node("second", 50));
  RecordingBackend& third = add_remote(cluster, make_node("third", 60));
  EdgeFunction function = make_function("f");
  function.idempotent = true;
  cluster.deploy_to_all(function);

  first.unavailable = true;
  const EdgeCluster::RoutedCall call = cluster.invoke_routed("f", "x");
  CHECK(call.node_id == "second");  // the best of the others
  CHECK(call.result.output == "second:x");
  CHECK(first.calls == 1);
  CHECK(second.calls == 1);

  second.unavailable = true;
  CHECK_THROWS_AS(cluster.invoke_routed("f", "x"), NodeUnavailableError);
  CHECK(first.calls == 2);
  CHECK(second.calls == 2);
  CHECK(third.calls == 0);  // one retry, not one per node
}

TEST_CASE("a call that is not idempotent is not retried") {
  EdgeCluster cluster;
  RecordingBackend& first = add_remote(cluster, make_node("first", 0));
  RecordingBackend& second = add_remote(cluster, make_node("second", 50));
  cluster.deploy_to_all(make_function("f"));
  first.unavailable = true;
  CHECK_THROWS_AS(cluster.invoke_routed("f", "x"), NodeUnavailableError);
  CHECK(first.calls == 1);
  CHECK(second.calls == 0);
}

TEST_CASE("assign and unassign run a function on exactly the nodes a controller names") {
  EdgeCluster cluster;
  RecordingBackend& remote = add_remote(cluster, make_node("remote"));
  cluster.register_node(make_node("local", 50));
  add_remote(cluster, make_node("full", 0, 0));

  cluster.assign(make_function("f"), "remote");
  CHECK(cluster.placement("f") == Placement::Pinned);
  CHECK(to_string(Placement::Pinned) == "pinned");
  CHECK(cluster.nodes_running("f") == Ids{"remote"});
  CHECK(remote.deploys == Ids{"f"});

  cluster.assign(make_function("f"), "remote");  // the same definition: nothing to do
  CHECK(remote.deploys == Ids{"f"});
  EdgeFunction changed = make_function("f");
  changed.timeout_seconds = 9;
  cluster.assign(changed, "remote");  // a new version
  CHECK(remote.deploys == Ids{"f", "f"});
  CHECK(cluster.function("f")->timeout_seconds == 9);

  cluster.assign(changed, "local");
  CHECK(cluster.nodes_running("f") == Ids{"local", "remote"});
  CHECK(remote.deploys == Ids{"f", "f"});  // its copy stays warm
  CHECK(cluster.invoke_routed("f", "x").node_id == "remote");

  // A pinned function is never placed by the cluster itself.
  RecordingBackend& later = add_remote(cluster, make_node("later"));
  CHECK(later.deploys.empty());

  CHECK_THROWS_AS(cluster.assign(make_function("f"), "ghost"), std::invalid_argument);
  CHECK_THROWS_WITH_AS(cluster.assign(make_function("g"), "full"),
                       doctest::Contains("node 'full': full"), DeploymentError);
  CHECK_THROWS_WITH_AS(cluster.assign(make_function("g", {"gpu"}), "remote"),
                       doctest::Contains("'gpu'"), DeploymentError);
  CHECK_FALSE(cluster.function("g"));
  cluster.deploy_least_loaded(make_function("h"));
  CHECK_THROWS_WITH_AS(cluster.assign(make_function("h"), "remote"),
                       doctest::Contains("least_loaded"), DeploymentError);

  CHECK(cluster.unassign("f", "remote"));
  CHECK(remote.undeploys == Ids{"f"});
  CHECK(cluster.nodes_running("f") == Ids{"local"});
  CHECK_FALSE(cluster.unassign("f", "remote"));
  CHECK_FALSE(cluster.unassign("h", cluster.nodes_running("h").front()));  // not pinned
  CHECK(cluster.unassign("f", "local"));
  CHECK_FALSE(cluster.function("f"));
  CHECK_THROWS_AS(cluster.invoke("f"), std::invalid_argument);
}

TEST_CASE("restore keeps a least-loaded function where it runs, deploying nothing") {
  EdgeCluster cluster;
  RecordingBackend& busy = add_remote(cluster, make_node("busy", 60));
  RecordingBackend& idle = add_remote(cluster, make_node("idle", 0));
  const EdgeFunction function = make_function("f");
  busy.already_runs(function);

  cluster.restore(function, Placement::LeastLoaded, {"busy"});
  CHECK(cluster.placement("f") == Placement::LeastLoaded);
  CHECK(cluster.nodes_running("f") == Ids{"busy"});
  CHECK(busy.deploys.empty());
  CHECK(idle.deploys.empty());
  CHECK(cluster.invoke_routed("f", "x").node_id == "busy");

  // A least-loaded function listed on two nodes keeps the less loaded copy.
  idle.already_runs(make_function("g"));
  busy.already_runs(make_function("g"));
  cluster.restore(make_function("g"), Placement::LeastLoaded, {"busy", "idle"});
  CHECK(cluster.nodes_running("g") == Ids{"idle"});
  CHECK(busy.undeploys == Ids{"g"});
  CHECK(idle.deploys.empty());
}

TEST_CASE("restore places anew what no listed node can keep, and completes All") {
  EdgeCluster cluster;
  RecordingBackend& busy = add_remote(cluster, make_node("busy", 60));
  RecordingBackend& idle = add_remote(cluster, make_node("idle", 0));
  EdgeNode down = make_node("down");
  down.status = EdgeNodeStatus::Offline;
  RecordingBackend& offline = add_remote(cluster, down);

  cluster.restore(make_function("f"), Placement::LeastLoaded, {"gone", "down"});
  CHECK(cluster.nodes_running("f") == Ids{"idle"});
  CHECK(idle.deploys == Ids{"f"});

  busy.already_runs(make_function("g"));
  cluster.restore(make_function("g"), Placement::All, {"busy"});
  CHECK(cluster.nodes_running("g") == Ids{"busy", "idle"});
  CHECK(busy.deploys.empty());
  CHECK(idle.deploys == Ids{"f", "g"});
  CHECK(offline.deploys.empty());

  busy.already_runs(make_function("p"));
  cluster.restore(make_function("p"), Placement::Pinned, {"busy", "down"});
  CHECK(cluster.placement("p") == Placement::Pinned);
  CHECK(cluster.nodes_running("p") == Ids{"busy"});
  CHECK(busy.deploys.empty());
}

TEST_CASE("drain takes a pinned function off the node; going stale does not") {
  EdgeCluster cluster;
  RecordingBackend& drained = add_remote(cluster, make_node("drained"));
  RecordingBackend& stale = add_remote(cluster, make_node("stale"));
  RecordingBackend& other = add_remote(cluster, make_node("other", 50));
  cluster.assign(make_function("f"), "drained");
  cluster.assign(make_function("g"), "stale");

  CHECK(cluster.drain_node("drained"));
  CHECK(drained.undeploys == Ids{"f"});
  CHECK(cluster.nodes_running("f").empty());
  CHECK(other.deploys.empty());  // not moved: the controller decides where it goes

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  cluster.heartbeat("other");
  cluster.heartbeat("drained");
  CHECK(cluster.detect_stale_nodes(0.01) == Ids{"stale"});
  CHECK(cluster.nodes_running("g") == Ids{"stale"});
  CHECK(stale.undeploys.empty());
  CHECK(other.deploys.empty());
}

TEST_CASE("invoke_on runs the function on the node named, whatever its load") {
  EdgeCluster cluster;
  RecordingBackend& busy = add_remote(cluster, make_node("busy", 60));
  add_remote(cluster, make_node("idle", 0));
  cluster.register_node(make_node("local", 70));
  cluster.deploy_to_all(make_function("f"));
  cluster.deploy_least_loaded(make_function("g"));

  const EdgeCluster::RoutedCall remote_call = cluster.invoke_on("busy", "f", "x");
  CHECK(remote_call.node_id == "busy");
  CHECK(remote_call.result.output == "busy:x");
  CHECK(busy.calls == 1);
  const EdgeCluster::RoutedCall local_call = cluster.invoke_on("local", "f", "y");
  CHECK(local_call.node_id == "local");
  CHECK(local_call.result.output == "local:y");

  CHECK_THROWS_AS(cluster.invoke_on("ghost", "f", "x"), std::invalid_argument);
  CHECK_THROWS_AS(cluster.invoke_on("busy", "g", "x"), std::invalid_argument);
  CHECK_THROWS_AS(cluster.invoke_on("busy", "nothing", "x"), std::invalid_argument);
}
