// The YAML topology file: which nodes exist and which functions run where.
// See config/README.md for every key.
#pragma once

#include <edge/cluster.hpp>
#include <edge/models.hpp>
#include <edge/plugin_security.hpp>
#include <edge/sandbox.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge {

struct FunctionSpec {
  EdgeFunction function;  // plugin resolved to an absolute path
  Placement placement = Placement::All;
};

// Where edge-host listens: a host name or IP literal and a port.
struct ListenAddress {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;  // 0: any free port

  // "127.0.0.1:8080", "[::1]:8080".
  std::string to_string() const;
};

// Reads "HOST:PORT" or "[IPV6]:PORT" (port 0 to 65535); nullopt when malformed.
std::optional<ListenAddress> parse_listen_address(std::string_view text);

// The `server:` section: how edge-host serves its HTTP API (docs/http-api.md).
struct ServerSettings {
  ListenAddress listen;
  std::string token;  // empty: no authentication
  std::size_t body_limit_bytes = std::size_t{1} << 20;
  double read_timeout_seconds = 10;
  double idle_timeout_seconds = 60;
  double drain_timeout_seconds = 10;
  std::size_t max_connections = 1024;
  unsigned threads = 0;  // 0: max(4, 2 × hardware threads)
};

struct Topology {
  std::filesystem::path source;  // the file it was read from
  std::string cluster_name = "edge";
  double heartbeat_timeout_seconds = 30;
  // cluster.nats: the NATS server(s) ("nats://host:4222", or several,
  // comma-separated) this host joins the cluster through; empty: the host is
  // a cluster of its own (docs/cluster.md).
  std::string nats_url;
  // cluster.controller: this host keeps the cluster's view and places the
  // functions on every host's nodes; the others only serve their own nodes.
  bool controller = false;
  // cluster.heartbeat_interval_seconds: how often a host in a NATS cluster
  // heartbeats its nodes; 0: heartbeat_timeout_seconds / 3.
  double heartbeat_interval_seconds = 0;
  std::filesystem::path plugin_dir;  // absolute
  std::vector<EdgeNode> nodes;
  std::vector<FunctionSpec> functions;
  ServerSettings server;
  // The `security:` section (TopologyOptions may relax it): already checked
  // against every plugin the file names; edge-host's PluginStore applies it
  // at every load.
  PluginSecurityPolicy security;
  SandboxOptions sandbox;  // the `sandbox:` section (on_output is the caller's)
};

// What the caller (e.g. edge-host's command line) overrides in the file.
struct TopologyOptions {
  // Replaces the file's plugin_dir; a relative path is taken against the
  // current directory. The file's plugin_dir must still be well-formed.
  std::optional<std::filesystem::path> plugin_dir;
  // True: as security.allow_writable_plugins: true (edge-host
  // --allow-writable-plugins), whatever the file says.
  bool allow_writable_plugins = false;
  // Replace cluster.nats and set cluster.controller (edge-host --nats URL,
  // --controller).
  std::optional<std::string> nats_url = std::nullopt;
  bool controller = false;
};

// Reads and validates a topology file. Every problem is a ConfigError
// "file:line:column: what was expected". Fields a function omits take its
// plugin descriptor's defaults, so the plugin file is read (not initialised);
// before that, it must pass the security section's checks (file modes,
// signature) and match the function's sha256 pin.
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
