// The edge-host HTTP API (docs/http-api.md) as edgectl uses it: JSON in and
// out, the bearer token, and the API's error object turned into ServerError.
#pragma once

#include "http_client.hpp"

#include "json.hpp"

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace edgectl {

// The server answered with an error: {"error": {"code", "message"}}, or
// something else that is not a success (code "http_<status>" then).
class ServerError : public std::runtime_error {
 public:
  ServerError(int status, std::string code, const std::string& message)
      : std::runtime_error(code + ": " + message), status_(status), code_(std::move(code)) {}
  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }

 private:
  int status_;
  std::string code_;
};

class ApiClient {
 public:
  ApiClient(ServerAddress server, std::optional<std::string> token,
            std::chrono::milliseconds timeout)
      : http_(std::move(server), timeout), token_(std::move(token)) {}

  // JSON requests: a 2xx answer's body parsed, or ServerError.
  Json get(std::string_view target) const;
  Json send(std::string_view method, std::string_view target,
            const std::optional<Json>& body = std::nullopt) const;

  // Any request; the answer as it came, whatever its status (for invoke's
  // raw bytes and health's 503 that still carries the health).
  HttpResponse raw(std::string_view method, std::string_view target, std::string_view body = {},
                   std::string_view content_type = {}) const;

  // Throws the ServerError that a non-2xx answer stands for.
  [[noreturn]] static void throw_error(const HttpResponse& response);
  // The body of a 2xx answer as JSON; ServerError "bad_response" if it is not.
  static Json parse_json(const HttpResponse& response);

  const ServerAddress& server() const noexcept { return http_.server(); }

 private:
  HttpClient http_;
  std::optional<std::string> token_;
};

}  // namespace edgectl
