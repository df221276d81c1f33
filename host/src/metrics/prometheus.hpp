// The /metrics page: the cluster, its nodes and their functions in the
// Prometheus text exposition format (version 0.0.4).
#pragma once

#include <edge/cluster.hpp>

#include <string>

namespace edge::metrics {

// The Content-Type of render_prometheus's output.
inline constexpr const char* kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

std::string render_prometheus(EdgeCluster& cluster);

}  // namespace edge::metrics
