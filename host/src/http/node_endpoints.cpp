// /v1/nodes: registering nodes, their heartbeats, drain and resume.
#include "http/api_error.hpp"
#include "http/api_views.hpp"
#include "http/endpoints.hpp"
#include "http/json_reader.hpp"
#include "topology/ids.hpp"

#include <nlohmann/json.hpp>

namespace edge::http {
namespace {

// The topology file's ranges (config/README.md).
constexpr long long kMaxFunctionsPerNode = 100'000;
constexpr NumberRange kCpuRange{0, false, 100, "a number from 0 to 100"};
constexpr NumberRange kMemoryRange{0, false, 1e15, "a number of megabytes >= 0"};

// Reads the figures of `object`, keeping `usage`'s for those it leaves out.
ResourceUsage read_usage(const JsonObject& object, ResourceUsage usage) {
  object.allow_only({"cpu_percent", "memory_mb", "memory_max_mb"});
  usage.cpu_percent = object.number("cpu_percent", kCpuRange).value_or(usage.cpu_percent);
  usage.memory_mb = object.number("memory_mb", kMemoryRange).value_or(usage.memory_mb);
  usage.memory_max_mb = object.number("memory_max_mb", kMemoryRange).value_or(usage.memory_max_mb);
  return usage;
}

HttpResponse list_nodes(const ApiContext& api) {
  nlohmann::json nodes = nlohmann::json::array();
  for (const EdgeNode& node : api.cluster.nodes()) {
    try {
      nodes.push_back(node_view(api.cluster, node.id, false));
    } catch (const ApiError&) {
      // Deregistered while listing.
    }
  }
  return json_response(200, {{"nodes", std::move(nodes)}});
}

HttpResponse register_node(const ApiContext& api, const HttpRequest& request) {
  if (request.body.empty()) bad_request("expected a JSON object with at least \"id\" in the body");
  const nlohmann::json document = parse_json_body(request.body);
  const JsonObject body(document, "");
  body.allow_only({"id", "name", "location", "capabilities", "max_functions", "resources"});
  const std::optional<std::string> id = body.string("id");
  if (!id) bad_request("missing required field 'id'");
  if (!topology_internal::is_valid_id(*id)) {
    bad_request("id: expected 1-128 characters from A-Z a-z 0-9 . _ - (not '.' or '..'), got " +
                in_quotes(*id));
  }
  EdgeNode node(*id, body.string("name").value_or(""), body.string("location", true).value_or(""));
  node.capabilities = body.string_list("capabilities", "capability").value_or(node.capabilities);
  node.max_functions = static_cast<int>(
      body.integer("max_functions", 1, kMaxFunctionsPerNode).value_or(node.max_functions));
  if (const std::optional<JsonObject> resources = body.object("resources")) {
    node.resources = read_usage(*resources, node.resources);
  }
  // A check-then-act race with another registration of the same id only
  // means both get 201; the cluster keeps one node either way.
  if (api.cluster.node(*id)) {
    throw ApiError(409, error_code::kConflict, "node " + in_quotes(*id) + " already exists");
  }
  api.cluster.register_node(std::move(node));
  return json_response(201, node_view(api.cluster, *id, false));
}

HttpResponse heartbeat(const ApiContext& api, const HttpRequest& request, const std::string& id) {
  const std::optional<EdgeNode> node = api.cluster.node(id);
  if (!node) not_found("unknown node " + in_quotes(id));
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
    api.cluster.heartbeat(id);
  } else {
    const nlohmann::json document = parse_json_body(request.body);
    api.cluster.heartbeat(id, read_usage(JsonObject(document, ""), node->resources));
  }
  return json_response(200, node_view(api.cluster, id, false));
}

}  // namespace

void add_node_endpoints(Router& router, const ApiContext& api) {
  router.add("GET", "/v1/nodes",
             [&api](const HttpRequest&, const RouteMatch&) { return list_nodes(api); });
  router.add("POST", "/v1/nodes", [&api](const HttpRequest& request, const RouteMatch&) {
    return register_node(api, request);
  });
  router.add("GET", "/v1/nodes/{node}", [&api](const HttpRequest&, const RouteMatch& match) {
    return json_response(200, node_view(api.cluster, match[0], true));
  });
  router.add("DELETE", "/v1/nodes/{node}", [&api](const HttpRequest&, const RouteMatch& match) {
    if (!api.cluster.deregister_node(match[0])) not_found("unknown node " + in_quotes(match[0]));
    return json_response(200, {{"deregistered", match[0]}});
  });
  router.add("POST", "/v1/nodes/{node}/heartbeat",
             [&api](const HttpRequest& request, const RouteMatch& match) {
               return heartbeat(api, request, match[0]);
             });
  router.add("POST", "/v1/nodes/{node}/drain", [&api](const HttpRequest&, const RouteMatch& match) {
    if (!api.cluster.drain_node(match[0])) not_found("unknown node " + in_quotes(match[0]));
    return json_response(200, node_view(api.cluster, match[0], false));
  });
  router.add("POST", "/v1/nodes/{node}/resume",
             [&api](const HttpRequest&, const RouteMatch& match) {
               if (!api.cluster.resume_node(match[0])) {
                 not_found("unknown node " + in_quotes(match[0]));
               }
               return json_response(200, node_view(api.cluster, match[0], false));
             });
}

}  // namespace edge::http
