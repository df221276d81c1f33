// Cluster health, liveness and the Prometheus page.
#include "http/api_views.hpp"
#include "http/endpoints.hpp"
#include "metrics/prometheus.hpp"

#include <nlohmann/json.hpp>

namespace edge::http {

void add_status_endpoints(Router& router, const ApiContext& api) {
  router.add("GET", "/v1/health", [&api](const HttpRequest&, const RouteMatch&) {
    const ClusterHealth health = api.cluster.health();
    // A load balancer reads the status: only a cluster that can serve is 200.
    const bool serving = health.status == "healthy" || health.status == "degraded";
    return json_response(serving ? 200 : 503, health.to_json());
  });
  router.add("GET", "/healthz", [](const HttpRequest&, const RouteMatch&) {
    return json_response(200, {{"status", "ok"}});
  });
  router.add("GET", "/metrics", [&api](const HttpRequest&, const RouteMatch&) {
    HttpResponse response;
    response.content_type = metrics::kPrometheusContentType;
    response.body = metrics::render_prometheus(api.cluster);
    return response;
  });
}

}  // namespace edge::http
