// functions, function ID, deploy, plan, remove, warm.
#include "commands.hpp"
#include "format.hpp"
#include "table.hpp"

#include <ostream>
#include <set>

namespace edgectl {
namespace {

// The body of PUT /v1/functions/{id} (and of plan) from deploy's options;
// only what was given, so the server's defaults (the plugin's) apply.
Json function_body(const CommandLine& line) {
  Json body{{"plugin", *line.option("plugin")}};
  if (const auto placement = line.option("placement")) {
    if (*placement != "all" && *placement != "least_loaded") {
      throw UsageError("--placement: expected all or least_loaded, got '" + *placement + "'");
    }
    body["placement"] = *placement;
  }
  if (const auto name = line.option("name")) body["name"] = *name;
  if (const auto memory = line.option("memory"))
    body["memory_mb"] = positive_number("memory", *memory);
  if (const auto timeout = line.option("timeout"))
    body["timeout_seconds"] = positive_number("timeout", *timeout);
  if (const auto limit = line.option("max-in-flight"))
    body["max_in_flight"] = whole_number("max-in-flight", *limit, 0);
  if (const auto isolation = line.option("isolation")) {
    if (*isolation != "none" && *isolation != "process") {
      throw UsageError("--isolation: expected none or process, got '" + *isolation + "'");
    }
    body["isolation"] = *isolation;
  }
  if (const auto workers = line.option("max-workers"))
    body["max_workers"] = whole_number("max-workers", *workers, 1);
  if (line.options.contains("env")) {
    Json environment = Json::object();
    for (const std::string& assignment : line.all("env")) {
      const std::size_t equals = assignment.find('=');
      if (equals == std::string::npos || equals == 0) {
        throw UsageError("--env: expected KEY=VALUE, got '" + assignment + "'");
      }
      const std::string key = assignment.substr(0, equals);
      if (environment.contains(key)) throw UsageError("--env: " + key + " given more than once");
      environment[key] = assignment.substr(equals + 1);
    }
    body["environment"] = std::move(environment);
  }
  if (line.options.contains("capability")) body["required_capabilities"] = line.all("capability");
  return body;
}

std::string nodes_cell(const Json& function) {
  if (function.value("pending", false)) return "(pending)";
  return cell(function, "nodes");
}

void print_definition(std::ostream& out, const Json& function) {
  Table table({{"FIELD"}, {"VALUE"}});
  for (const char* key : {"id", "name", "plugin", "placement", "memory_mb", "timeout_seconds",
                          "max_in_flight", "isolation", "required_capabilities"}) {
    table.add_row({key, cell(function, key)});
  }
  if (function.value("isolation", "none") == "process") {
    table.add_row({"max_workers", cell(function, "max_workers")});
  }
  table.add_row({"nodes", nodes_cell(function)});
  std::vector<std::string> environment;
  const Json environment_json = function.value("environment", Json::object());
  for (const auto& [key, value] : environment_json.items()) {
    environment.push_back(key + "=" + cell(value));
  }
  table.add_row({"environment", environment.empty() ? "-" : join(environment)});
  if (function.contains("plugin_info") && function["plugin_info"].is_object()) {
    const Json& info = function["plugin_info"];
    table.add_row({"plugin version", cell(info, "version")});
    if (info.contains("description")) table.add_row({"description", cell(info, "description")});
  }
  if (function.contains("quarantine") && function["quarantine"].is_object()) {
    table.add_row({"QUARANTINED", cell(function["quarantine"], "reason") + " (sha256 " +
                                      cell(function["quarantine"], "sha256") + ")"});
  }
  table.print(out);
}

void print_stats(std::ostream& out, const Json& stats_by_node) {
  Table table({{"NODE"},
               {"CALLS", Table::Align::Right},
               {"ERRORS", Table::Align::Right},
               {"TIMEOUTS", Table::Align::Right},
               {"COLD", Table::Align::Right},
               {"IN FLIGHT", Table::Align::Right},
               {"AVG MS", Table::Align::Right},
               {"P50 MS", Table::Align::Right},
               {"P95 MS", Table::Align::Right},
               {"P99 MS", Table::Align::Right},
               {"WARM"}});
  for (const auto& [node, stats] : stats_by_node.items()) {
    // Durations mean nothing before the first call ("0" would read as instant).
    const bool called = stats.value("invocations", 0) > 0;
    // Captured by name: clang 14 cannot capture a structured binding.
    const auto duration = [&, &node_stats = stats](const char* key) {
      return called ? cell(node_stats, key, 3) : "-";
    };
    table.add_row({node, cell(stats, "invocations"), cell(stats, "errors"), cell(stats, "timeouts"),
                   cell(stats, "cold_starts"), cell(stats, "in_flight"),
                   duration("avg_duration_ms"), duration("p50_ms"), duration("p95_ms"),
                   duration("p99_ms"), cell(stats, "is_warm")});
  }
  if (table.empty()) {
    out << "(running on no node)\n";
  } else {
    table.print(out);
  }
}

// Process isolation: what happened to the workers on each node.
void print_sandbox(std::ostream& out, const Json& stats_by_node) {
  Table table({{"NODE"},
               {"WORKERS", Table::Align::Right},
               {"STARTS", Table::Align::Right},
               {"TIMEOUT KILLS", Table::Align::Right},
               {"OOM KILLS", Table::Align::Right},
               {"CRASHES", Table::Align::Right},
               {"BREAKER"},
               {"MEMORY LIMIT"}});
  for (const auto& [node, stats] : stats_by_node.items()) {
    if (!stats.contains("sandbox")) continue;
    const Json& sandbox = stats["sandbox"];
    std::string breaker = cell(sandbox, "breaker");
    if (breaker == "open")
      breaker += " (" + cell(sandbox, "breaker_retry_after_seconds", 1) + " s)";
    table.add_row({node, cell(sandbox, "workers"), cell(sandbox, "worker_starts"),
                   cell(sandbox, "timeout_kills"), cell(sandbox, "oom_kills"),
                   cell(sandbox, "crashes"), breaker, cell(sandbox, "memory_limit")});
  }
  if (table.empty()) return;
  out << "\n";
  table.print(out);
}

}  // namespace

int run_functions(const Context& context) {
  const Json answer = context.api.get("/v1/functions");
  if (context.line.json) {
    print_json(context.out, answer);
    return kExitOk;
  }
  Table table({{"FUNCTION"},
               {"PLUGIN"},
               {"PLACEMENT"},
               {"CALLS", Table::Align::Right},
               {"ERRORS", Table::Align::Right},
               {"COLD", Table::Align::Right},
               {"NODES"}});
  for (const Json& function : answer.value("functions", Json::array())) {
    table.add_row({cell(function, "id"), cell(function, "plugin"), cell(function, "placement"),
                   cell(function, "invocations"), cell(function, "errors"),
                   cell(function, "cold_starts"), nodes_cell(function)});
  }
  table.print(context.out);
  return kExitOk;
}

int run_function(const Context& context) {
  const Json function = context.api.get(function_path(context.line.arguments.at(0)));
  if (context.line.json) {
    print_json(context.out, function);
    return kExitOk;
  }
  print_definition(context.out, function);
  context.out << "\n";
  print_stats(context.out, function.value("stats", Json::object()));
  print_sandbox(context.out, function.value("stats", Json::object()));
  return kExitOk;
}

int run_deploy(const Context& context) {
  const std::string& id = context.line.arguments.at(0);
  const Json body = function_body(context.line);
  const HttpResponse response =
      context.api.raw("PUT", function_path(id), body.dump(), "application/json");
  if (response.status != 200 && response.status != 201) ApiClient::throw_error(response);
  const Json function = ApiClient::parse_json(response);
  if (context.line.json) {
    print_json(context.out, function);
    return kExitOk;
  }
  const std::string verb = response.status == 201 ? "deployed" : "replaced";
  if (function.value("pending", false) || function.value("nodes", Json::array()).empty()) {
    context.out << verb << " " << id << ": pending, no node can take it now\n";
  } else {
    context.out << verb << " " << id << " on " << cell(function, "nodes") << "\n";
  }
  return kExitOk;
}

int run_plan(const Context& context) {
  const std::string& id = context.line.arguments.at(0);
  const Json plan =
      context.api.send("POST", function_path(id) + "/plan", function_body(context.line));
  if (context.line.json) {
    print_json(context.out, plan);
    return kExitOk;
  }
  const Json nodes = plan.value("nodes", Json::array());
  context.out << "placement:    " << cell(plan, "placement") << "\n"
              << "would run on: " << (nodes.empty() ? "no node (it would be pending)" : cell(nodes))
              << "\n";
  const Json rejected = plan.value("rejected", Json::object());
  if (!rejected.empty()) {
    context.out << "\n";
    Table table({{"REJECTED NODE"}, {"REASON"}});
    for (const auto& [node, reason] : rejected.items()) table.add_row({node, cell(reason)});
    table.print(context.out);
  }
  return kExitOk;
}

int run_remove(const Context& context) {
  const Json answer = context.api.send("DELETE", function_path(context.line.arguments.at(0)));
  if (context.line.json) {
    print_json(context.out, answer);
  } else {
    context.out << "removed " << cell(answer, "removed") << "\n";
  }
  return kExitOk;
}

int run_warm(const Context& context) {
  const std::string& id = context.line.arguments.at(0);
  const Json answer = context.api.send("POST", function_path(id) + "/warm");
  if (context.line.json) {
    print_json(context.out, answer);
  } else {
    const Json warmed = answer.value("warmed", Json::array());
    context.out << "warmed " << id << " on " << (warmed.empty() ? "no node" : cell(warmed)) << "\n";
  }
  return kExitOk;
}

}  // namespace edgectl
