#include "metrics/prometheus.hpp"

#include "concurrency/epoch.hpp"
#include "metrics/exposition_writer.hpp"
#include "metrics/process_metrics.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace edge::metrics {
namespace {

// Every status, so that edge_node_status and edge_cluster_nodes show a 0 for
// the ones no node is in (an alert on "offline > 0" needs the series).
constexpr std::array kStatuses{EdgeNodeStatus::Online, EdgeNodeStatus::Offline,
                               EdgeNodeStatus::Degraded, EdgeNodeStatus::Syncing,
                               EdgeNodeStatus::Maintenance};

struct NodeSnapshot {
  EdgeNode node;
  RuntimeSummary summary;  // empty if the node left while the page was built
  double seconds_since_heartbeat = 0;
};

// One function on one node, with its label set rendered once.
struct FunctionSeries {
  Labels labels;
  const FunctionStats* stats;
  const std::string* node_id;
};

std::vector<NodeSnapshot> snapshot_nodes(EdgeCluster& cluster) {
  std::vector<NodeSnapshot> snapshots;
  const auto now = std::chrono::steady_clock::now();
  for (EdgeNode& node : cluster.nodes()) {
    NodeSnapshot snapshot;
    // Heartbeats are stamped with the coarse monotonic clock, a few
    // milliseconds behind steady_clock: never report a negative age.
    snapshot.seconds_since_heartbeat =
        std::max(0.0, std::chrono::duration<double>(now - node.last_heartbeat).count());
    {
      // cluster.runtime() is valid only while the node is registered, and an
      // API call may deregister it concurrently. Node entries are freed
      // through epoch-based reclamation, so a guard keeps the runtime alive
      // while we read it.
      concurrency::EpochGuard guard;
      if (EdgeRuntime* runtime = cluster.runtime(node.id)) snapshot.summary = runtime->summary();
    }
    snapshot.node = std::move(node);
    snapshots.push_back(std::move(snapshot));
  }
  return snapshots;
}

std::vector<FunctionSeries> function_series(const std::vector<NodeSnapshot>& nodes) {
  std::vector<FunctionSeries> series;
  for (const NodeSnapshot& node : nodes) {
    for (const FunctionStats& stats : node.summary.functions) {
      series.push_back(
          {Labels{{"function", stats.function_id}, {"node", node.node.id}}, &stats, &node.node.id});
    }
  }
  // By function, then node: a function's series sit together on the page.
  std::sort(series.begin(), series.end(), [](const FunctionSeries& a, const FunctionSeries& b) {
    if (a.stats->function_id != b.stats->function_id)
      return a.stats->function_id < b.stats->function_id;
    return *a.node_id < *b.node_id;
  });
  return series;
}

// Counters are summed from per-thread shards without a global snapshot, so
// a reading may see an error before its invocation: never wrap below zero.
std::uint64_t minus(std::uint64_t total, std::uint64_t part) {
  return total > part ? total - part : 0;
}

void write_function_metrics(ExpositionWriter& out, const std::vector<FunctionSeries>& series) {
  constexpr std::string_view kInvocations = "edge_function_invocations_total";
  out.family(kInvocations, MetricType::Counter,
             "Calls of a function on a node, by outcome (error excludes timeouts).");
  for (const FunctionSeries& item : series) {
    const FunctionStats& stats = *item.stats;
    out.sample(kInvocations, item.labels.with("outcome", "success"),
               minus(stats.invocations, stats.errors));
    out.sample(kInvocations, item.labels.with("outcome", "error"),
               minus(stats.errors, stats.timeouts));
    out.sample(kInvocations, item.labels.with("outcome", "timeout"), stats.timeouts);
  }

  constexpr std::string_view kDuration = "edge_function_duration_seconds";
  out.family(kDuration, MetricType::Histogram, "How long completed calls took.");
  for (const FunctionSeries& item : series)
    out.histogram(kDuration, item.labels, item.stats->duration_histogram);

  constexpr std::string_view kColdStarts = "edge_function_cold_starts_total";
  out.family(kColdStarts, MetricType::Counter,
             "Plugin loads (load + init) before a call or on warm-up.");
  for (const FunctionSeries& item : series)
    out.sample(kColdStarts, item.labels, item.stats->cold_starts);

  constexpr std::string_view kColdStartDuration = "edge_function_cold_start_duration_seconds";
  out.family(kColdStartDuration, MetricType::Histogram, "How long successful cold starts took.");
  for (const FunctionSeries& item : series) {
    out.histogram(kColdStartDuration, item.labels, item.stats->cold_start_histogram);
  }

  constexpr std::string_view kInFlight = "edge_function_in_flight";
  out.family(kInFlight, MetricType::Gauge, "Calls of a function running now on a node.");
  for (const FunctionSeries& item : series) {
    out.sample(kInFlight, item.labels,
               static_cast<double>(std::max<std::int64_t>(item.stats->in_flight, 0)));
  }
}

// Process-isolated functions only (docs/sandbox.md): what happened to their
// worker processes. No families at all when no function is isolated.
void write_sandbox_metrics(ExpositionWriter& out, const std::vector<FunctionSeries>& series) {
  std::vector<const FunctionSeries*> isolated;
  for (const FunctionSeries& item : series) {
    if (item.stats->isolation == "process") isolated.push_back(&item);
  }
  if (isolated.empty()) return;

  constexpr std::string_view kEvents = "edge_function_worker_events_total";
  out.family(kEvents, MetricType::Counter,
             "Worker processes of a process-isolated function: started, killed at the deadline, "
             "killed for memory, crashed; and calls refused by the open circuit breaker.");
  for (const FunctionSeries* item : isolated) {
    const FunctionStats& stats = *item->stats;
    out.sample(kEvents, item->labels.with("event", "start"), stats.worker_starts);
    out.sample(kEvents, item->labels.with("event", "timeout_kill"), stats.timeout_kills);
    out.sample(kEvents, item->labels.with("event", "oom_kill"), stats.oom_kills);
    out.sample(kEvents, item->labels.with("event", "crash"), stats.crashes);
    out.sample(kEvents, item->labels.with("event", "breaker_rejection"), stats.breaker_rejections);
  }

  constexpr std::string_view kWorkers = "edge_function_workers";
  out.family(kWorkers, MetricType::Gauge, "Worker processes alive for a function on a node.");
  for (const FunctionSeries* item : isolated) {
    out.sample(kWorkers, item->labels, static_cast<double>(item->stats->workers));
  }

  constexpr std::string_view kBreaker = "edge_function_breaker_state";
  out.family(kBreaker, MetricType::Gauge,
             "1 for the crash circuit breaker's current state, 0 for the others.");
  for (const FunctionSeries* item : isolated) {
    for (const std::string_view state : {"closed", "open", "half-open"}) {
      out.sample(kBreaker, item->labels.with("state", state),
                 item->stats->breaker == state ? 1.0 : 0.0);
    }
  }
}

void write_node_metrics(ExpositionWriter& out, const std::vector<NodeSnapshot>& nodes) {
  constexpr std::string_view kStatus = "edge_node_status";
  out.family(kStatus, MetricType::Gauge, "1 for the node's current status, 0 for the others.");
  for (const NodeSnapshot& node : nodes) {
    const Labels labels{{"node", node.node.id}};
    for (const EdgeNodeStatus status : kStatuses) {
      out.sample(kStatus, labels.with("status", to_string(status)),
                 node.node.status == status ? 1.0 : 0.0);
    }
  }

  // One gauge per node, from a field of the snapshot.
  const auto gauge = [&](std::string_view name, std::string_view help, auto value_of) {
    out.family(name, MetricType::Gauge, help);
    for (const NodeSnapshot& node : nodes) {
      out.sample(name, Labels{{"node", node.node.id}}, static_cast<double>(value_of(node)));
    }
  };
  gauge("edge_node_cpu_percent", "CPU use the node last reported, 0-100.",
        [](const NodeSnapshot& node) { return node.node.resources.cpu_percent; });
  gauge("edge_node_memory_percent",
        "Memory use the node last reported, as a percentage of its maximum.",
        [](const NodeSnapshot& node) { return node.node.resources.memory_percent(); });
  gauge("edge_node_functions", "Functions deployed on the node.",
        [](const NodeSnapshot& node) { return node.summary.function_count; });
  gauge("edge_node_seconds_since_heartbeat", "Seconds since the node's last heartbeat.",
        [](const NodeSnapshot& node) { return node.seconds_since_heartbeat; });
  gauge("edge_node_healthy", "1 when the node is online and not overloaded.",
        [](const NodeSnapshot& node) { return node.node.is_healthy() ? 1 : 0; });
}

void write_cluster_metrics(ExpositionWriter& out, const std::vector<NodeSnapshot>& nodes,
                           std::size_t pending_functions) {
  constexpr std::string_view kNodes = "edge_cluster_nodes";
  out.family(kNodes, MetricType::Gauge, "Registered nodes by status.");
  for (const EdgeNodeStatus status : kStatuses) {
    const auto count = std::count_if(nodes.begin(), nodes.end(), [&](const NodeSnapshot& node) {
      return node.node.status == status;
    });
    out.sample(kNodes, Labels{{"status", to_string(status)}}, static_cast<double>(count));
  }
  constexpr std::string_view kPending = "edge_cluster_pending_functions";
  out.family(kPending, MetricType::Gauge,
             "Functions that run on no node, waiting for one to qualify.");
  out.sample(kPending, Labels{}, static_cast<double>(pending_functions));
}

void write_process_metrics(ExpositionWriter& out) {
  const std::optional<ProcessMetrics> process = read_process_metrics();
  if (!process) return;
  const Labels none;
  const auto one = [&](std::string_view name, MetricType type, std::string_view help,
                       double value) {
    out.family(name, type, help);
    out.sample(name, none, value);
  };
  one("process_cpu_seconds_total", MetricType::Counter,
      "Total user and system CPU time spent in seconds.", process->cpu_seconds);
  one("process_resident_memory_bytes", MetricType::Gauge, "Resident memory size in bytes.",
      process->resident_memory_bytes);
  one("process_virtual_memory_bytes", MetricType::Gauge, "Virtual memory size in bytes.",
      process->virtual_memory_bytes);
  if (process->open_fds) {
    one("process_open_fds", MetricType::Gauge, "Number of open file descriptors.",
        static_cast<double>(*process->open_fds));
  }
  if (process->max_fds) {
    one("process_max_fds", MetricType::Gauge, "Maximum number of open file descriptors.",
        static_cast<double>(*process->max_fds));
  }
  one("process_start_time_seconds", MetricType::Gauge,
      "Start time of the process since unix epoch in seconds.", process->start_time_seconds);
  one("process_threads", MetricType::Gauge, "Number of OS threads in the process.",
      static_cast<double>(process->threads));
}

}  // namespace

std::string render_prometheus(EdgeCluster& cluster) {
  const std::vector<NodeSnapshot> nodes = snapshot_nodes(cluster);
  const std::vector<FunctionSeries> series = function_series(nodes);
  const std::size_t pending_functions = cluster.health().pending_functions;

  ExpositionWriter out;
  // About 2 KiB per function series (two histograms), plus the fixed part.
  out.reserve(4096 + series.size() * 2048 + nodes.size() * 512);
  write_function_metrics(out, series);
  write_sandbox_metrics(out, series);
  write_node_metrics(out, nodes);
  write_cluster_metrics(out, nodes, pending_functions);
  write_process_metrics(out);
  return out.take();
}

}  // namespace edge::metrics
