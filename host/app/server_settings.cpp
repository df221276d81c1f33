#include "server_settings.hpp"

#include <cstdlib>
#include <stdexcept>
#include <string_view>

namespace edge::app {
namespace {

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::duration<double>(seconds));
}

}  // namespace

http::ServerOptions server_options(const edge::ServerSettings& settings,
                                   const CommandLine& command_line) {
  const edge::ListenAddress& listen = command_line.listen ? *command_line.listen : settings.listen;
  http::ServerOptions options;
  options.address = listen.host;
  options.port = listen.port;
  options.body_limit_bytes = settings.body_limit_bytes;
  options.read_timeout = milliseconds(settings.read_timeout_seconds);
  options.idle_timeout = milliseconds(settings.idle_timeout_seconds);
  options.max_connections = settings.max_connections;
  options.threads = settings.threads;
  return options;
}

std::string api_token(const edge::ServerSettings& settings) {
  const char* environment = std::getenv("EDGE_TOKEN");
  if (environment == nullptr || *environment == '\0') return settings.token;
  const std::string_view token(environment);
  bool valid = token.size() <= 4096;
  for (const char character : token) {
    const auto byte = static_cast<unsigned char>(character);
    valid = valid && byte > 0x20 && byte < 0x7F;
  }
  if (!valid) {
    throw std::runtime_error(
        "EDGE_TOKEN: expected 1 to 4096 visible ASCII characters (no spaces) for the API token");
  }
  return std::string(token);
}

std::chrono::milliseconds drain_timeout(const edge::ServerSettings& settings) {
  return milliseconds(settings.drain_timeout_seconds);
}

}  // namespace edge::app
