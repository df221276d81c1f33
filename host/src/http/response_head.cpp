#include "http/response_head.hpp"

#include <cassert>
#include <charconv>

namespace edge::http {
namespace {

[[maybe_unused]] bool is_header_safe(std::string_view text) noexcept {
  return text.find_first_of("\r\n") == std::string_view::npos;
}

void append_number(std::string& out, std::size_t value) {
  char digits[24];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

void append_header(std::string& out, std::string_view name, std::string_view value) {
  assert(is_header_safe(name) && is_header_safe(value));
  out += name;
  out += ": ";
  out += value;
  out += "\r\n";
}

}  // namespace

std::string_view reason_phrase(int status) noexcept {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Payload Too Large";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

void write_response_head(std::string& out, const HttpResponse& response,
                         const HeadOptions& options) {
  out.clear();
  out += "HTTP/1.1 ";
  append_number(out, static_cast<std::size_t>(response.status));
  out += ' ';
  out += reason_phrase(response.status);
  out += "\r\n";
  append_header(out, "Content-Type", response.content_type);
  out += "Content-Length: ";
  append_number(out, response.body.size());
  out += "\r\n";
  if (!options.request_id.empty()) append_header(out, "X-Request-Id", options.request_id);
  for (const auto& [name, value] : response.headers) append_header(out, name, value);
  if (!options.keep_alive) {
    out += "Connection: close\r\n";
  } else if (options.http_1_0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace edge::http
