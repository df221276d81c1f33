// The JSON the API answers with for functions (F) and nodes (N), as
// docs/http-api.md defines them. Internal to the API.
#pragma once

#include "http/message.hpp"

#include <edge/cluster.hpp>

#include <filesystem>
#include <nlohmann/json_fwd.hpp>
#include <string_view>

namespace edge::http {

// F: the function's definition, placement, nodes and counters summed over
// its nodes; `detailed` adds per-node stats and the plugin's descriptor.
// 404 when the cluster does not know the function.
nlohmann::json function_view(EdgeCluster& cluster, const std::filesystem::path& plugin_dir,
                             std::string_view function_id, bool detailed);

// N: EdgeNode::to_json() plus its functions and seconds since its last
// heartbeat; `detailed` adds the runtime's summary. 404 for an unknown node.
nlohmann::json node_view(EdgeCluster& cluster, std::string_view node_id, bool detailed);

// A response with `body` serialised (invalid UTF-8 replaced, never thrown).
HttpResponse json_response(int status, const nlohmann::json& body);

}  // namespace edge::http
