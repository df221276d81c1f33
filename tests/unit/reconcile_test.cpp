// reconcile_topology (edge-host's SIGHUP): the cluster is made to match a
// newly loaded topology file, touching only what changed; a file that does
// not load changes nothing.
#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>
#include <edge/reconcile.hpp>
#include <edge/topology.hpp>

#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace edge;
using edge::test::ScratchDir;
using Ids = std::vector<std::string>;

namespace {

// Writes `yaml` as the topology file (plugins from the built examples) and loads it.
Topology load(const ScratchDir& dir, const std::string& yaml) {
  edge::test::write_file(dir / "topology.yaml", yaml);
  TopologyOptions options;
  options.plugin_dir = std::filesystem::path(EDGE_TEST_PLUGIN_DIR);
  return load_topology(dir / "topology.yaml", options);
}

const char* const kFirst = R"(
nodes:
  - {id: gw-1, capabilities: [gpio]}
  - {id: gw-2}
  - {id: old}
functions:
  - {id: echo, plugin: echo}
  - {id: pulse, plugin: counter, placement: least_loaded, required_capabilities: [gpio]}
  - {id: greet, plugin: env, environment: {GREETING: hello}}
  - {id: retired, plugin: echo}
)";

// gw-1 loses gpio and gw-3 brings it; old goes; greet's environment changes;
// retired goes; sleep comes; echo and pulse stay as they were.
const char* const kSecond = R"(
nodes:
  - {id: gw-1}
  - {id: gw-2}
  - {id: gw-3, capabilities: [gpio]}
functions:
  - {id: echo, plugin: echo}
  - {id: pulse, plugin: counter, placement: least_loaded, required_capabilities: [gpio]}
  - {id: greet, plugin: env, environment: {GREETING: bonjour}}
  - {id: nap, plugin: sleep}
)";

}  // namespace

TEST_CASE("reconcile adds, updates and removes nodes and functions") {
  ScratchDir dir("edge-reconcile");
  const Topology first = load(dir, kFirst);
  EdgeCluster cluster;
  apply_topology(cluster, first);
  CHECK(cluster.invoke("echo", "warm") == "warm");
  CHECK(cluster.invoke("pulse") == "1");
  CHECK(cluster.invoke("greet", "GREETING") == "hello");
  CHECK(cluster.runtime("gw-1")->invoke("echo", "warm") == "warm");

  const Topology second = load(dir, kSecond);
  const ReconcileSummary summary = reconcile_topology(cluster, first, second);
  CHECK(summary.nodes_added == Ids{"gw-3"});
  CHECK(summary.nodes_updated == Ids{"gw-1"});
  CHECK(summary.nodes_removed == Ids{"old"});
  CHECK(summary.functions_added == Ids{"nap"});
  CHECK(summary.functions_removed == Ids{"retired"});
  // greet's environment changed; pulse sat on gw-1, which lost gpio.
  CHECK(summary.functions_updated == Ids{"greet", "pulse"});
  CHECK(summary.errors.empty());
  CHECK(summary.changed());
  CHECK(summary.to_string().find("nodes +1 ~1 -1, functions +1 ~2 -1") == 0);

  CHECK(cluster.function_ids() == Ids{"echo", "greet", "nap", "pulse"});
  CHECK(cluster.nodes_running("pulse") == Ids{"gw-3"});
  CHECK(cluster.nodes_running("echo") == Ids{"gw-1", "gw-2", "gw-3"});
  CHECK_FALSE(cluster.node("old"));
  CHECK(cluster.invoke("greet", "GREETING") == "bonjour");
  CHECK(cluster.invoke("nap", "1") == "slept 1");

  // An unchanged function keeps its warm copies: no cold start on gw-1.
  CHECK(cluster.runtime("gw-1")->get_function_stats("echo").is_warm);
  CHECK_FALSE(cluster.runtime("gw-1")->invoke_detailed("echo", "x").cold_start);

  // The same file again changes nothing.
  const ReconcileSummary again = reconcile_topology(cluster, second, second);
  CHECK_FALSE(again.changed());
  CHECK(again.to_string().find("(no change)") != std::string::npos);
}

TEST_CASE("a topology file that does not load leaves the running cluster as it was") {
  ScratchDir dir("edge-reconcile");
  const Topology first = load(dir, kFirst);
  EdgeCluster cluster;
  apply_topology(cluster, first);
  const std::vector<EdgeNode> nodes_before = cluster.nodes();
  const Ids functions_before = cluster.function_ids();

  // As edge-host on SIGHUP: load first; a ConfigError means no reconcile.
  CHECK_THROWS_AS(load(dir, "nodes:\n  - {id: gw-1, max_functions: -3}\n"), ConfigError);
  CHECK_THROWS_AS(load(dir, "functions:\n  - {id: x, plugin: no-such-plugin}\n"), ConfigError);
  CHECK(cluster.function_ids() == functions_before);
  REQUIRE(cluster.nodes().size() == nodes_before.size());
  CHECK(cluster.invoke("echo", "still") == "still");
}

TEST_CASE("reconcile redeploys an unchanged function whose plugin file has new content") {
  ScratchDir dir("edge-reconcile");
  std::filesystem::create_directory(dir / "plugins");
  edge::test::copy_over(edge::test::plugin("counter"), dir / "plugins/tick.so");
  const std::string yaml =
      "plugin_dir: plugins\nnodes:\n  - {id: n}\nfunctions:\n  - {id: tick, plugin: tick}\n";
  edge::test::write_file(dir / "topology.yaml", yaml);
  const Topology topology = load_topology(dir / "topology.yaml");

  ClusterOptions options;
  options.plugin_store = std::make_shared<PluginStore>();
  EdgeCluster cluster(options);
  apply_topology(cluster, topology);
  CHECK(cluster.invoke("tick") == "1");
  CHECK_FALSE(reconcile_topology(cluster, topology, topology).changed());
  CHECK(cluster.invoke("tick") == "2");  // unchanged content: the same instance

  edge::test::move_into_place(edge::test::plugin("echo"), dir / "plugins/tick.so");
  const Topology reloaded = load_topology(dir / "topology.yaml");
  const ReconcileSummary summary = reconcile_topology(cluster, topology, reloaded);
  CHECK(summary.functions_updated == Ids{"tick"});
  CHECK(cluster.invoke("tick", "new") == "new");
}

TEST_CASE("functions the topology never named are left alone") {
  ScratchDir dir("edge-reconcile");
  const Topology first = load(dir, kFirst);
  EdgeCluster cluster;
  apply_topology(cluster, first);
  EdgeFunction extra{"extra"};
  extra.plugin = edge::test::plugin("echo");
  cluster.deploy_to_all(extra);  // e.g. deployed over the HTTP API
  reconcile_topology(cluster, first, load(dir, kSecond));
  CHECK(cluster.function("extra").has_value());
  CHECK(cluster.invoke("extra", "kept") == "kept");
}
