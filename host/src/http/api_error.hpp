// ApiError: how an endpoint refuses a request with a status and a code of
// docs/http-api.md's table. make_api_handler turns it into the JSON error.
#pragma once

#include "http/error_response.hpp"

#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge::http {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string_view code, const std::string& message,
           std::vector<std::pair<std::string, std::string>> headers = {})
      : std::runtime_error(message), status_(status), code_(code), headers_(std::move(headers)) {}

  int status() const noexcept { return status_; }
  std::string_view code() const noexcept { return code_; }
  // Extra response headers (Allow for 405, WWW-Authenticate for 401).
  const std::vector<std::pair<std::string, std::string>>& headers() const noexcept {
    return headers_;
  }

 private:
  int status_;
  std::string_view code_;  // one of error_code's constants: static storage
  std::vector<std::pair<std::string, std::string>> headers_;
};

[[noreturn]] inline void bad_request(const std::string& message) {
  throw ApiError(400, error_code::kBadRequest, message);
}
[[noreturn]] inline void not_found(const std::string& message) {
  throw ApiError(404, error_code::kNotFound, message);
}

// Client text for a message: between single quotes, bytes outside printable
// ASCII as \xNN, cut after 64 characters ("..."), so that a message never
// carries control characters or a megabyte of input.
std::string in_quotes(std::string_view text);

}  // namespace edge::http
