#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>
#include <edge/reconcile.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

namespace edge {
namespace {

std::vector<std::string> sorted(std::vector<std::string> values) {
  std::sort(values.begin(), values.end());
  return values;
}

// What a topology file says about a node, as opposed to what heartbeats
// change at run time (status, usage).
bool same_configuration(const EdgeNode& a, const EdgeNode& b) {
  return a.id == b.id && a.name == b.name && a.location == b.location &&
         sorted(a.capabilities) == sorted(b.capabilities) && a.max_functions == b.max_functions &&
         a.resources.memory_max_mb == b.resources.memory_max_mb;
}

bool same_definition(const EdgeFunction& a, Placement a_placement, const EdgeFunction& b,
                     Placement b_placement) {
  return a_placement == b_placement && a.id == b.id && a.name == b.name && a.plugin == b.plugin &&
         a.plugin_sha256 == b.plugin_sha256 &&
         static_cast<bool>(a.handler) == static_cast<bool>(b.handler) &&
         a.memory_mb == b.memory_mb && a.timeout_seconds == b.timeout_seconds &&
         a.environment == b.environment &&
         sorted(a.required_capabilities) == sorted(b.required_capabilities) &&
         a.max_in_flight == b.max_in_flight && a.isolation == b.isolation &&
         a.max_workers == b.max_workers && a.idempotent == b.idempotent;
}

void deploy(EdgeCluster& cluster, const FunctionSpec& spec) {
  if (spec.placement == Placement::All) {
    cluster.deploy_to_all(spec.function);
  } else {
    cluster.deploy_least_loaded(spec.function);
  }
}

std::string join(const std::vector<std::string>& ids) {
  std::string text;
  for (const std::string& id : ids) text += (text.empty() ? "" : ", ") + id;
  return text;
}

class Reconciler {
 public:
  Reconciler(EdgeCluster& cluster, const Topology& current, const Topology& next)
      : cluster_(cluster), current_(current), next_(next) {}

  ReconcileSummary run() {
    // Order matters for calls and placement: functions that go away leave
    // first (nothing re-places them), new and changed nodes come before the
    // functions that may need them, removed nodes leave last so that their
    // functions can move onto the new ones.
    remove_functions();
    add_and_update_nodes();
    add_and_update_functions();
    remove_nodes();
    replace_functions_on_changed_nodes();
    return std::move(summary_);
  }

 private:
  void remove_functions() {
    std::set<std::string> kept;
    for (const FunctionSpec& spec : next_.functions) kept.insert(spec.function.id);
    for (const FunctionSpec& spec : current_.functions) {
      if (kept.count(spec.function.id) == 0 && cluster_.remove_function(spec.function.id)) {
        summary_.functions_removed.push_back(spec.function.id);
      }
    }
  }

  void add_and_update_nodes() {
    for (const EdgeNode& node : next_.nodes) {
      const std::optional<EdgeNode> known = cluster_.node(node.id);
      if (!known) {
        cluster_.register_node(node);
        summary_.nodes_added.push_back(node.id);
      } else if (!same_configuration(*known, node)) {
        cluster_.register_node(node);  // keeps its runtime and functions
        summary_.nodes_updated.push_back(node.id);
      }
    }
  }

  void add_and_update_functions() {
    for (const FunctionSpec& spec : next_.functions) {
      const std::string& id = spec.function.id;
      try {
        const std::optional<EdgeFunction> known = cluster_.function(id);
        const std::optional<Placement> placement = cluster_.placement(id);
        if (!known || !placement) {
          deploy(cluster_, spec);
          summary_.functions_added.push_back(id);
        } else if (!same_definition(*known, *placement, spec.function, spec.placement)) {
          deploy(cluster_, spec);
          summary_.functions_updated.push_back(id);
        } else if (plugin_content_changed(spec.function)) {
          summary_.functions_updated.push_back(id);
        }
      } catch (const DeploymentError& error) {
        summary_.errors.push_back("function '" + id + "': " + error.what());
      } catch (const std::invalid_argument& error) {
        summary_.errors.push_back("function '" + id + "': " + error.what());
      }
    }
  }

  // Redeploys `function` if its file's content is not what its warm copies
  // run. Only with a store: without one, loaded copies carry no hash.
  bool plugin_content_changed(const EdgeFunction& function) {
    const std::shared_ptr<PluginStore>& store = cluster_.plugin_store();
    if (!store || function.plugin.empty()) return false;
    try {
      return cluster_.redeploy_unless_running(function.id, store->sha256(function.plugin, true)) >
             0;
    } catch (const PluginError&) {
      return false;  // the file went away since the topology loaded: warm copies keep serving
    }
  }

  void remove_nodes() {
    std::set<std::string> kept;
    for (const EdgeNode& node : next_.nodes) kept.insert(node.id);
    for (const EdgeNode& node : current_.nodes) {
      if (kept.count(node.id) == 0 && cluster_.deregister_node(node.id)) {
        summary_.nodes_removed.push_back(node.id);
      }
    }
  }

  // A node that lost a capability or memory keeps its functions (the
  // cluster never evicts on a metadata change): place those again.
  void replace_functions_on_changed_nodes() {
    if (summary_.nodes_updated.empty()) return;
    for (const std::string& id : cluster_.function_ids()) {
      const std::optional<EdgeFunction> function = cluster_.function(id);
      const std::optional<Placement> placement = cluster_.placement(id);
      // A pinned function is a controller's to move, not the topology's.
      if (!function || !placement || *placement == Placement::Pinned) continue;
      bool misplaced = false;
      for (const std::string& node_id : cluster_.nodes_running(id)) {
        if (std::find(summary_.nodes_updated.begin(), summary_.nodes_updated.end(), node_id) ==
            summary_.nodes_updated.end()) {
          continue;
        }
        const std::optional<EdgeNode> node = cluster_.node(node_id);
        misplaced = misplaced || (node && !function->can_run_on(*node));
      }
      if (!misplaced) continue;
      try {
        deploy(cluster_, FunctionSpec{*function, *placement});
        if (std::find(summary_.functions_updated.begin(), summary_.functions_updated.end(), id) ==
            summary_.functions_updated.end()) {
          summary_.functions_updated.push_back(id);
        }
      } catch (const DeploymentError& error) {
        summary_.errors.push_back("function '" + id + "': " + error.what());
      }
    }
  }

  EdgeCluster& cluster_;
  const Topology& current_;
  const Topology& next_;
  ReconcileSummary summary_;
};

}  // namespace

bool ReconcileSummary::changed() const noexcept {
  return !nodes_added.empty() || !nodes_updated.empty() || !nodes_removed.empty() ||
         !functions_added.empty() || !functions_updated.empty() || !functions_removed.empty();
}

std::string ReconcileSummary::to_string() const {
  std::string line =
      "nodes +" + std::to_string(nodes_added.size()) + " ~" + std::to_string(nodes_updated.size()) +
      " -" + std::to_string(nodes_removed.size()) + ", functions +" +
      std::to_string(functions_added.size()) + " ~" + std::to_string(functions_updated.size()) +
      " -" + std::to_string(functions_removed.size());
  std::string details;
  const auto add = [&](const char* what, const std::vector<std::string>& ids) {
    if (!ids.empty())
      details += (details.empty() ? "" : "; ") + std::string(what) + " " + join(ids);
  };
  add("added nodes", nodes_added);
  add("updated nodes", nodes_updated);
  add("removed nodes", nodes_removed);
  add("added functions", functions_added);
  add("updated functions", functions_updated);
  add("removed functions", functions_removed);
  if (!errors.empty())
    details +=
        (details.empty() ? "" : "; ") + std::to_string(errors.size()) + " refused: " + join(errors);
  return details.empty() ? line + " (no change)" : line + " (" + details + ")";
}

ReconcileSummary reconcile_topology(EdgeCluster& cluster, const Topology& current,
                                    const Topology& next) {
  return Reconciler(cluster, current, next).run();
}

}  // namespace edge
