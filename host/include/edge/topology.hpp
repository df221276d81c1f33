// The YAML topology file: which nodes exist and which functions run where.
// See config/README.md for every key.
#pragma once

#include <edge/cluster.hpp>
#include <edge/models.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edge {

struct FunctionSpec {
  EdgeFunction function;  // plugin resolved to an absolute path
  Placement placement = Placement::All;
};

struct Topology {
  std::filesystem::path source;      // the file it was read from
  std::string cluster_name = "edge";
  double heartbeat_timeout_seconds = 30;
  std::filesystem::path plugin_dir;  // absolute
  std::vector<EdgeNode> nodes;
  std::vector<FunctionSpec> functions;
};

// What the caller (e.g. edge-host's command line) overrides in the file.
struct TopologyOptions {
  // Replaces the file's plugin_dir; a relative path is taken against the
  // current directory. The file's plugin_dir must still be well-formed.
  std::optional<std::filesystem::path> plugin_dir;
};

// Reads and validates a topology file. Every problem is a ConfigError
// "file:line:column: what was expected". Fields a function omits take its
// plugin descriptor's defaults, so the plugin file is read (not initialised).
Topology load_topology(const std::filesystem::path& file);
Topology load_topology(const std::filesystem::path& file, const TopologyOptions& options);

// Registers the topology's nodes, then deploys its functions by their
// placement. A function that no node can take now is not an error: the
// cluster keeps it (a deploy_to_all intent, or a pending least-loaded one) and
// places it when a qualifying node registers. Throws DeploymentError naming
// the function only when the cluster rejects the function itself; what was
// applied before stays applied.
void apply_topology(EdgeCluster& cluster, const Topology& topology);

}  // namespace edge
