// From the topology's `server:` section, the command line and the
// environment to what the HTTP server and the API need.
#pragma once

#include "command_line.hpp"
#include "http/server.hpp"

#include <edge/topology.hpp>

#include <chrono>
#include <string>

namespace edge::app {

// The section with --listen applied.
http::ServerOptions server_options(const edge::ServerSettings& settings,
                                   const CommandLine& command_line);

// EDGE_TOKEN when set and not empty (the environment wins), else the file's
// token; empty means no authentication. Throws std::runtime_error when
// EDGE_TOKEN holds something that cannot be a bearer token.
std::string api_token(const edge::ServerSettings& settings);

std::chrono::milliseconds drain_timeout(const edge::ServerSettings& settings);

}  // namespace edge::app
