#include "api_client.hpp"

#include <vector>

namespace edgectl {
namespace {

bool is_success(int status) { return status >= 200 && status < 300; }

// The first line of a body that is not the API's JSON (a proxy's HTML page,
// say), short enough for a one-line error.
std::string first_line(const std::string& body) {
  std::string line = body.substr(0, body.find('\n'));
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.size() > 120) {
    line.resize(117);
    line += "...";
  }
  return line;
}

}  // namespace

HttpResponse ApiClient::raw(std::string_view method, std::string_view target, std::string_view body,
                            std::string_view content_type) const {
  std::vector<std::pair<std::string, std::string>> headers{{"Accept", "application/json"}};
  if (token_) headers.emplace_back("Authorization", "Bearer " + *token_);
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  return http_.request(method, target, headers, body);
}

void ApiClient::throw_error(const HttpResponse& response) {
  const Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    const Json& error = body["error"];
    throw ServerError(response.status,
                      error.value("code", "http_" + std::to_string(response.status)),
                      error.value("message", response.reason));
  }
  std::string message = response.reason;
  if (const std::string line = first_line(response.body); !line.empty()) {
    message += (message.empty() ? "" : ": ") + line;
  }
  throw ServerError(response.status, "http_" + std::to_string(response.status), message);
}

Json ApiClient::parse_json(const HttpResponse& response) {
  Json body = Json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    throw ServerError(response.status, "bad_response",
                      "the server's answer is not JSON: '" + first_line(response.body) + "'");
  }
  return body;
}

Json ApiClient::get(std::string_view target) const { return send("GET", target); }

Json ApiClient::send(std::string_view method, std::string_view target,
                     const std::optional<Json>& body) const {
  const HttpResponse response =
      body ? raw(method, target, body->dump(), "application/json") : raw(method, target);
  if (!is_success(response.status)) throw_error(response);
  return parse_json(response);
}

}  // namespace edgectl
