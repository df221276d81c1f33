// /v1/functions: the functions the cluster knows, deploying them, and calling them.
#include "concurrency/epoch.hpp"
#include "http/api_error.hpp"
#include "http/api_views.hpp"
#include "http/endpoints.hpp"
#include "http/json_reader.hpp"
#include "plugin/security_check.hpp"
#include "plugin/sha256.hpp"
#include "runtime/function_validation.hpp"
#include "topology/function_rules.hpp"
#include "topology/ids.hpp"

#include <edge/errors.hpp>
#include <edge/plugin.hpp>
#include <edge/plugin_store.hpp>

#include <nlohmann/json.hpp>

#include <cstdio>

namespace edge::http {
namespace {

using topology_internal::kMaxFunctionMemoryMb;
using topology_internal::kMaxSeconds;

constexpr long long kMaxInFlightLimit = 1'000'000;
constexpr NumberRange kMemoryRange{0, true, kMaxFunctionMemoryMb,
                                   "a positive number of megabytes, at most 1048576"};
constexpr NumberRange kTimeoutRange{0, true, kMaxSeconds,
                                    "a positive number of seconds, at most 86400"};

struct FunctionRequest {
  EdgeFunction function;
  Placement placement = Placement::All;
};

Placement read_placement(const JsonObject& body) {
  const std::optional<std::string> text = body.string("placement");
  if (!text || *text == "all") return Placement::All;
  if (*text == "least_loaded") return Placement::LeastLoaded;
  bad_request("placement: expected \"all\" or \"least_loaded\", got " + in_quotes(*text));
}

// The body of PUT and plan: a function definition as the topology file
// writes one, with `plugin` a name in the plugin directory, never a path.
FunctionRequest read_function_request(const ApiContext& api, const std::string& function_id,
                                      std::string_view body_text) {
  if (body_text.empty()) bad_request("expected a JSON object with at least \"plugin\" in the body");
  const nlohmann::json document = parse_json_body(body_text);
  const JsonObject body(document, "");
  body.allow_only({"plugin", "placement", "name", "memory_mb", "timeout_seconds", "max_in_flight",
                   "environment", "required_capabilities", "sha256", "isolation", "max_workers",
                   "idempotent"});

  FunctionRequest request;
  EdgeFunction& function = request.function;
  function.id = function_id;
  function.name = body.string("name").value_or(function_id);
  request.placement = read_placement(body);

  topology_internal::GivenFields given;
  if (const auto memory = body.number("memory_mb", kMemoryRange)) {
    function.memory_mb = *memory;
    given.memory_mb = true;
  }
  if (const auto timeout = body.number("timeout_seconds", kTimeoutRange)) {
    function.timeout_seconds = *timeout;
    given.timeout_seconds = true;
  }
  function.max_in_flight =
      static_cast<int>(body.integer("max_in_flight", 0, kMaxInFlightLimit).value_or(0));
  if (const auto text = body.string("isolation")) {
    const std::optional<Isolation> isolation = parse_isolation(*text);
    if (!isolation) {
      bad_request("isolation: expected \"none\" or \"process\", got " + in_quotes(*text));
    }
    function.isolation = *isolation;
  }
  if (const auto workers = body.integer("max_workers", 1, kMaxWorkersLimit)) {
    if (function.isolation != Isolation::Process) {
      bad_request("max_workers applies to \"isolation\": \"process\" only");
    }
    function.max_workers = static_cast<int>(*workers);
  }
  function.idempotent = body.boolean("idempotent").value_or(false);
  if (auto environment = body.string_map("environment")) {
    for (const auto& [name, value] : *environment) {
      if (!topology_internal::is_valid_environment_name(name)) {
        bad_request("environment: " + in_quotes(name) +
                    " is not a valid variable name (expected letters, digits and _, not "
                    "starting with a digit)");
      }
    }
    function.environment = std::move(*environment);
  }
  if (auto capabilities = body.string_list("required_capabilities", "capability")) {
    function.required_capabilities = std::move(*capabilities);
    given.required_capabilities = true;
  }

  if (const std::optional<std::string> pin = body.string("sha256")) {
    std::optional<std::string> normalized = topology_internal::normalize_sha256(*pin);
    if (!normalized) {
      bad_request("sha256: expected a SHA-256 of 64 hex digits (the plugin content's pin), got " +
                  in_quotes(*pin));
    }
    function.plugin_sha256 = std::move(*normalized);
  }

  const std::optional<std::string> plugin = body.string("plugin");
  if (!plugin) bad_request("missing required field 'plugin'");
  if (!topology_internal::is_valid_id(*plugin)) {
    bad_request(
        "plugin: expected a plugin name of 1-128 characters from A-Z a-z 0-9 . _ - "
        "(a name in the plugin directory, never a path), got " +
        in_quotes(*plugin));
  }
  function.plugin = topology_internal::plugin_path_for_name(api.plugin_dir, *plugin);
  if (const auto problem = topology_internal::plugin_file_problem(function.plugin)) {
    bad_request("plugin " + in_quotes(*plugin) + " " + *problem);
  }
  // Through the store when there is one, as a cold start loads: its
  // security policy applies, and a changed file is not the stale mapping.
  PluginStore* store = api.cluster.plugin_store().get();
  PluginInfo info;
  try {
    if (!function.plugin_sha256.empty()) {
      const std::string actual =
          store != nullptr ? store->sha256(function.plugin) : sha256_of_file(function.plugin);
      if (actual != function.plugin_sha256) {
        bad_request(
            pin_mismatch_message(function.plugin, actual, function_id, function.plugin_sha256));
      }
    }
    info = store != nullptr ? store->inspect(function.plugin) : inspect_plugin(function.plugin);
  } catch (const PluginError& error) {
    bad_request("plugin " + in_quotes(*plugin) + " cannot be used: " + error.what());
  } catch (const std::system_error& error) {
    bad_request("plugin " + in_quotes(*plugin) + " cannot be read: " + error.what());
  }
  if (const auto problem = topology_internal::apply_plugin_defaults(function, info, given)) {
    bad_request("plugin " + in_quotes(*plugin) + " " + *problem);
  }
  return request;
}

HttpResponse list_functions(const ApiContext& api) {
  nlohmann::json functions = nlohmann::json::array();
  for (const std::string& id : api.cluster.function_ids()) {
    try {
      functions.push_back(function_view(api.cluster, api.plugin_dir, id, false));
    } catch (const ApiError&) {
      // Removed while listing.
    }
  }
  return json_response(200, {{"functions", std::move(functions)}});
}

HttpResponse put_function(const ApiContext& api, const HttpRequest& request,
                          const RouteMatch& match) {
  const std::string& id = match[0];
  const FunctionRequest definition = read_function_request(api, id, request.body);
  const bool existed = api.cluster.function(id).has_value();
  try {
    if (definition.placement == Placement::All) {
      api.cluster.deploy_to_all(definition.function);
    } else {
      api.cluster.deploy_least_loaded(definition.function);
    }
  } catch (const DeploymentError& error) {
    throw ApiError(422, error_code::kUnschedulable, error.what());
  }
  return json_response(existed ? 200 : 201, function_view(api.cluster, api.plugin_dir, id, false));
}

HttpResponse plan_function(const ApiContext& api, const HttpRequest& request,
                           const RouteMatch& match) {
  const FunctionRequest definition = read_function_request(api, match[0], request.body);
  nlohmann::json plan;
  try {
    plan = api.cluster.plan(definition.function, definition.placement).to_json();
  } catch (const DeploymentError& error) {
    throw ApiError(422, error_code::kUnschedulable, error.what());
  }
  plan["placement"] = to_string(definition.placement);
  return json_response(200, plan);
}

HttpResponse warm_function(const ApiContext& api, const RouteMatch& match) {
  const std::string& id = match[0];
  if (!api.cluster.function(id)) not_found("unknown function " + in_quotes(id));
  std::vector<std::string> warmed;
  for (const std::string& node_id : api.cluster.nodes_running(id)) {
    concurrency::EpochGuard guard;  // the node may be deregistered meanwhile
    // Only a node in this process can be warmed from here; a remote one
    // loads its copy when it has fetched the plugin.
    EdgeRuntime* runtime = api.cluster.runtime(node_id);
    if (runtime != nullptr && runtime->warm_up(id)) warmed.push_back(node_id);
  }
  return json_response(200, {{"warmed", warmed}});
}

EdgeCluster::RoutedCall call_on_node(const ApiContext& api, const std::string& function_id,
                                     const std::string& node_id, std::string_view input) {
  if (!topology_internal::is_valid_id(node_id)) {
    bad_request("invalid node id " + in_quotes(node_id) + " in ?node=");
  }
  try {
    return api.cluster.invoke_on(node_id, function_id, input);
  } catch (const std::invalid_argument&) {
    // Which of the three it was, for the message (the cluster's own names
    // the node or the function, not what the request got wrong).
    if (!api.cluster.node(node_id)) not_found("unknown node " + in_quotes(node_id));
    if (!api.cluster.function(function_id)) not_found("unknown function " + in_quotes(function_id));
    not_found("function " + in_quotes(function_id) + " does not run on node " + in_quotes(node_id));
  }
}

HttpResponse invoke_function(const ApiContext& api, const HttpRequest& request,
                             const RouteMatch& match) {
  const std::string& id = match[0];
  EdgeCluster::RoutedCall call;
  try {
    const auto node = request.query.find("node");
    call = node != request.query.end() ? call_on_node(api, id, node->second, request.body)
                                       : api.cluster.invoke_routed(id, request.body);
  } catch (const BusyError&) {
    throw;
  } catch (const TimeoutError&) {
    throw;
  } catch (const PluginError&) {
    throw;
  } catch (const WorkerCrashError&) {
    throw;
  } catch (const CircuitOpenError&) {
    throw;
  } catch (const EdgeExecutionError& error) {
    // A call that failed while no node can serve it failed for want of a
    // node (422), not in the function (502).
    if (!api.cluster.can_serve(id)) throw ApiError(422, error_code::kUnschedulable, error.what());
    throw ApiError(502, error_code::kPluginError, error.what());
  }

  HttpResponse response;
  response.content_type = "application/octet-stream";
  response.body = std::move(call.result.output);
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.3f",
                static_cast<double>(call.result.duration_ns) / 1e6);
  response.headers.reserve(3);
  response.headers.emplace_back("X-Edge-Node", call.node_id);
  response.headers.emplace_back("X-Edge-Duration-Ms", duration);
  response.headers.emplace_back("X-Edge-Cold-Start", call.result.cold_start ? "true" : "false");
  response.log_node = std::move(call.node_id);
  return response;
}

}  // namespace

void add_function_endpoints(Router& router, const ApiContext& api) {
  router.add("GET", "/v1/functions",
             [&api](const HttpRequest&, const RouteMatch&) { return list_functions(api); });
  router.add(
      "GET", "/v1/functions/{function}", [&api](const HttpRequest&, const RouteMatch& match) {
        return json_response(200, function_view(api.cluster, api.plugin_dir, match[0], true));
      });
  router.add("PUT", "/v1/functions/{function}",
             [&api](const HttpRequest& request, const RouteMatch& match) {
               return put_function(api, request, match);
             });
  router.add("DELETE", "/v1/functions/{function}",
             [&api](const HttpRequest&, const RouteMatch& match) {
               if (!api.cluster.remove_function(match[0])) {
                 not_found("unknown function " + in_quotes(match[0]));
               }
               return json_response(200, {{"removed", match[0]}});
             });
  router.add(
      "POST", "/v1/functions/{function}/warm",
      [&api](const HttpRequest&, const RouteMatch& match) { return warm_function(api, match); });
  router.add("POST", "/v1/functions/{function}/invoke",
             [&api](const HttpRequest& request, const RouteMatch& match) {
               return invoke_function(api, request, match);
             },
             {"node"});
  router.add("POST", "/v1/functions/{function}/plan",
             [&api](const HttpRequest& request, const RouteMatch& match) {
               return plan_function(api, request, match);
             });
}

}  // namespace edge::http
