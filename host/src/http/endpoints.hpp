// The API's endpoints, grouped by resource; make_api_handler adds them all
// to its router. Internal to the API.
#pragma once

#include "http/api.hpp"
#include "http/router.hpp"

namespace edge::http {

// /v1/functions...: list, get, put, delete, warm, invoke, plan.
void add_function_endpoints(Router& router, const ApiContext& api);
// /v1/nodes...: list, get, register, deregister, heartbeat, drain, resume.
void add_node_endpoints(Router& router, const ApiContext& api);
// /v1/health, /healthz, /metrics.
void add_status_endpoints(Router& router, const ApiContext& api);

}  // namespace edge::http
