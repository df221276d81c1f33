// The HTTP request and response as the API layer sees them: plain values,
// no Beast, so that the API and its tests compile without Asio headers.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge::http {

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as received, e.g. "/v1/functions/echo/invoke?node=gw-1"
  std::string path;    // decoded path, e.g. "/v1/functions/echo/invoke"
  std::map<std::string, std::string> query;  // decoded query parameters
  // Header names lower-cased.
  std::map<std::string, std::string> headers;
  std::string body;
  std::string request_id;  // X-Request-Id if the client sent one, else generated

  const std::string* header(std::string_view lower_case_name) const {
    const auto found = headers.find(std::string(lower_case_name));
    return found == headers.end() ? nullptr : &found->second;
  }
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  // Sent as they are: names and values must not contain CR or LF. The server
  // adds Content-Type, Content-Length, X-Request-Id and Connection itself.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Not sent: what the request was about, for the access log line.
  std::string log_function;
  std::string log_node;
};

// Turns a request into a response. Called on a server thread; may block for
// the duration of a function call. Must not throw (the server answers 500 and
// logs if it does: that is a bug).
using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

}  // namespace edge::http
