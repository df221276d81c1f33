#include "fleet/json_models.hpp"

#include "runtime/function_validation.hpp"
#include "topology/ids.hpp"

#include <limits>

namespace edge::fleet {
namespace {

constexpr double kUnbounded = std::numeric_limits<double>::max();
constexpr std::int64_t kIntMax = std::numeric_limits<int>::max();

}  // namespace

std::optional<EdgeNodeStatus> parse_node_status(std::string_view text) noexcept {
  for (const EdgeNodeStatus status :
       {EdgeNodeStatus::Online, EdgeNodeStatus::Offline, EdgeNodeStatus::Degraded,
        EdgeNodeStatus::Syncing, EdgeNodeStatus::Maintenance}) {
    if (text == to_string(status)) return status;
  }
  return std::nullopt;
}

EdgeNode node_from_json(const JsonFields& fields) {
  EdgeNode node;
  node.id = fields.text("id");
  if (!topology_internal::is_valid_id(node.id)) {
    fields.fail("id", "is not a valid node id (1-128 of [A-Za-z0-9._-])");
  }
  node.name = fields.text("name");
  node.location = fields.text("location");
  const std::optional<EdgeNodeStatus> status = parse_node_status(fields.text("status"));
  if (!status) fields.fail("status", "must be online, offline, degraded, syncing or maintenance");
  node.status = *status;
  node.capabilities = fields.texts("capabilities");
  node.max_functions = static_cast<int>(fields.integer("max_functions", 0, kIntMax));
  const JsonFields resources = fields.object("resources");
  node.resources.cpu_percent = resources.number("cpu_percent", 0, 100);
  node.resources.memory_mb = resources.number("memory_mb", 0, kUnbounded);
  node.resources.memory_max_mb = resources.number("memory_max_mb", 0, kUnbounded);
  return node;
}

FunctionStats stats_from_json(const JsonFields& fields, std::string_view function_id) {
  FunctionStats stats;
  stats.function_id = std::string(function_id);
  stats.invocations = fields.count("invocations");
  stats.errors = fields.count("errors");
  stats.timeouts = fields.count("timeouts");
  stats.cold_starts = fields.count("cold_starts");
  stats.in_flight = fields.integer("in_flight", 0, std::numeric_limits<std::int64_t>::max());
  stats.avg_duration_ms = fields.number("avg_duration_ms", 0, kUnbounded);
  stats.min_duration_ms = fields.number("min_duration_ms", 0, kUnbounded);
  stats.max_duration_ms = fields.number("max_duration_ms", 0, kUnbounded);
  stats.p50_ms = fields.number("p50_ms", 0, kUnbounded);
  stats.p95_ms = fields.number("p95_ms", 0, kUnbounded);
  stats.p99_ms = fields.number("p99_ms", 0, kUnbounded);
  stats.is_warm = fields.flag("is_warm");
  stats.plugin_sha256 = fields.text("plugin_sha256");
  stats.last_error = fields.text("last_error");
  stats.isolation = fields.text("isolation");
  if (!parse_isolation(stats.isolation)) fields.fail("isolation", "must be none or process");
  return stats;
}

nlohmann::json function_to_json(const EdgeFunction& function) {
  return {{"id", function.id},
          {"name", function.name},
          {"memory_mb", function.memory_mb},
          {"timeout_seconds", function.timeout_seconds},
          {"environment", function.environment},
          {"required_capabilities", function.required_capabilities},
          {"max_in_flight", function.max_in_flight},
          {"isolation", to_string(function.isolation)},
          {"max_workers", function.max_workers},
          {"idempotent", function.idempotent},
          {"plugin_sha256", function.plugin_sha256}};
}

EdgeFunction function_from_json(const JsonFields& fields) {
  EdgeFunction function;
  function.id = fields.text("id");
  if (!topology_internal::is_valid_id(function.id)) {
    fields.fail("id", "is not a valid function id (1-128 of [A-Za-z0-9._-])");
  }
  function.name = fields.text("name");
  function.memory_mb = fields.positive("memory_mb");
  function.timeout_seconds = fields.positive("timeout_seconds");
  function.environment = fields.text_map("environment");
  function.required_capabilities = fields.texts("required_capabilities");
  function.max_in_flight = static_cast<int>(fields.integer("max_in_flight", 0, kIntMax));
  const std::optional<Isolation> isolation = parse_isolation(fields.text("isolation"));
  if (!isolation) fields.fail("isolation", "must be none or process");
  function.isolation = *isolation;
  function.max_workers = static_cast<int>(fields.integer("max_workers", 1, kMaxWorkersLimit));
  function.idempotent = fields.flag("idempotent");
  function.plugin_sha256 = fields.text("plugin_sha256");
  if (!function.plugin_sha256.empty() && !is_sha256_hex(function.plugin_sha256)) {
    fields.fail("plugin_sha256", "must be 64 lowercase hex digits (or empty)");
  }
  return function;
}

}  // namespace edge::fleet
