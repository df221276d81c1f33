// The HTTP API of docs/http-api.md over an EdgeCluster, as an HttpHandler.
// Knows nothing of sockets: the server (or a test) calls the handler.
#pragma once

#include "http/message.hpp"
#include "log/logger.hpp"

#include <edge/cluster.hpp>

#include <filesystem>
#include <string>

namespace edge::http {

struct ApiContext {
  EdgeCluster& cluster;
  // Where PUT /v1/functions/{id} looks plugin names up (<dir>/<name>.so).
  std::filesystem::path plugin_dir;
  // Empty: no authentication. Else every endpoint but GET /healthz needs
  // "Authorization: Bearer <token>".
  std::string token;
  const log::Logger& logger;
};

// The handler never throws: every failure becomes a JSON error response
// (a 500 `internal` for exceptions no endpoint expects, which are logged).
// The cluster and the logger must outlive it. Thread-safe.
HttpHandler make_api_handler(ApiContext context);

}  // namespace edge::http
