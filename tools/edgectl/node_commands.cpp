// nodes, drain, resume, health.
#include "commands.hpp"
#include "format.hpp"
#include "table.hpp"

#include <ostream>

namespace edgectl {

int run_nodes(const Context& context) {
  const Json answer = context.api.get("/v1/nodes");
  if (context.line.json) {
    print_json(context.out, answer);
    return kExitOk;
  }
  Table table({{"NODE"},
               {"HOST"},
               {"STATUS"},
               {"HEALTHY"},
               {"CPU %", Table::Align::Right},
               {"MEM %", Table::Align::Right},
               {"FUNCTIONS", Table::Align::Right},
               {"HEARTBEAT", Table::Align::Right},
               {"CAPABILITIES"}});
  for (const Json& node : answer.value("nodes", Json::array())) {
    const Json resources = node.value("resources", Json::object());
    const Json functions = node.value("functions", Json::array());
    const std::string heartbeat =
        node.contains("seconds_since_heartbeat") && node["seconds_since_heartbeat"].is_number()
            ? format_age(node["seconds_since_heartbeat"].get<double>()) + " ago"
            : "-";
    // "local" (this edge-host) or "remote" (another host of the cluster over NATS).
    table.add_row({cell(node, "id"), cell(node, "host"), cell(node, "status"),
                   cell(node, "is_healthy"), cell(resources, "cpu_percent"),
                   cell(resources, "memory_percent"),
                   std::to_string(functions.size()) + "/" + cell(node, "max_functions"), heartbeat,
                   cell(node, "capabilities")});
  }
  table.print(context.out);
  return kExitOk;
}

int run_drain_or_resume(const Context& context) {
  const std::string& node_id = context.line.arguments.at(0);
  const Json node = context.api.send("POST", node_path(node_id) + "/" + context.line.command);
  if (context.line.json) {
    print_json(context.out, node);
  } else {
    context.out << "node " << node_id << " is " << cell(node, "status") << "\n";
  }
  return kExitOk;
}

int run_health(const Context& context) {
  // 503 is the API's answer for a critical or empty cluster: it still
  // carries the health, and edgectl exits 1 so that scripts notice.
  const HttpResponse response = context.api.raw("GET", "/v1/health");
  if (response.status != 200 && response.status != 503) ApiClient::throw_error(response);
  const Json health = ApiClient::parse_json(response);
  if (context.line.json) {
    print_json(context.out, health);
  } else {
    context.out << "status:      " << cell(health, "status") << "\n"
                << "nodes:       " << cell(health, "total_nodes") << " (online "
                << cell(health, "online") << ", degraded " << cell(health, "degraded")
                << ", offline " << cell(health, "offline") << ", syncing "
                << cell(health, "syncing") << ", maintenance " << cell(health, "maintenance")
                << "); healthy " << cell(health, "healthy_nodes") << ", overloaded "
                << cell(health, "overloaded_nodes") << "\n"
                << "functions:   " << cell(health, "total_functions") << " deployed copies, "
                << cell(health, "pending_functions") << " pending\n"
                << "invocations: " << cell(health, "total_invocations") << ", cold starts "
                << cell(health, "cold_starts") << "\n"
                << "average:     cpu " << cell(health, "avg_cpu_percent") << " %, memory "
                << cell(health, "avg_memory_percent") << " %\n";
  }
  if (response.status == 503) {
    context.err << "edgectl: error: unhealthy: the cluster is " << cell(health, "status") << "\n";
    return kExitServerError;
  }
  return kExitOk;
}

}  // namespace edgectl
