// Reloading a topology file on a running cluster (edge-host's SIGHUP): the
// cluster is made to match the new file, changing only what changed.
//
// The caller loads the new file first with load_topology; a file that does
// not load (ConfigError) is rejected before anything changes, and the
// running state stays as it is.
#pragma once

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include <string>
#include <vector>

namespace edge {

struct ReconcileSummary {
  std::vector<std::string> nodes_added;
  std::vector<std::string> nodes_updated;
  std::vector<std::string> nodes_removed;
  std::vector<std::string> functions_added;
  std::vector<std::string> functions_updated;
  std::vector<std::string> functions_removed;
  // Functions the cluster refused ("function 'x': reason"); everything
  // else was applied.
  std::vector<std::string> errors;

  bool changed() const noexcept;
  // One log line: "nodes +1 ~0 -1, functions +2 ~1 -0 (added node gw-3; ...)".
  std::string to_string() const;
};

// Makes `cluster`, configured from `current`, match `next`:
// - nodes only in `next` are registered; nodes whose id, name, location,
//   capabilities, max_functions or memory_max_mb changed are registered again
//   (they keep their runtime and functions); nodes gone from `next` are
//   deregistered (their least-loaded functions move elsewhere);
// - functions only in `current` are removed; functions new or different in
//   `next` (plugin path, name, limits, environment, capabilities,
//   max_in_flight, placement) are deployed by their placement; an unchanged
//   function whose plugin file's content differs from what its warm copies
//   run is redeployed (with a PluginStore: the hashes are known);
// - functions on a node that changed and no longer qualifies are placed again.
// Functions deployed by other means (not in `current`) are left alone unless
// `next` names them. Never throws for one function's refusal: see errors.
ReconcileSummary reconcile_topology(EdgeCluster& cluster, const Topology& current,
                                    const Topology& next);

}  // namespace edge
