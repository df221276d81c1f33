#include "http/router.hpp"

#include "http/api_error.hpp"
#include "http/request_target.hpp"
#include "topology/ids.hpp"

#include <algorithm>
#include <cassert>

namespace edge::http {

void Router::add(std::string method, std::string_view pattern, RouteHandler handler,
                 std::vector<std::string> query) {
  assert(pattern.starts_with('/'));
  Route route{std::move(method), {}, std::move(handler), std::move(query)};
  std::string_view rest = pattern.substr(1);
  for (;;) {
    const std::size_t slash = rest.find('/');
    const std::string_view text = rest.substr(0, slash);
    const bool capture = text.size() > 2 && text.front() == '{' && text.back() == '}';
    route.pattern.push_back(
        {std::string(capture ? text.substr(1, text.size() - 2) : text), capture});
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  routes_.push_back(std::move(route));
}

bool Router::shape_matches(const Route& route, const std::vector<std::string>& segments) {
  if (route.pattern.size() != segments.size()) return false;
  for (std::size_t index = 0; index < segments.size(); ++index) {
    if (!route.pattern[index].capture && route.pattern[index].text != segments[index]) {
      return false;
    }
  }
  return true;
}

HttpResponse Router::dispatch(const HttpRequest& request, RouteMatch& match) const {
  const std::optional<std::vector<std::string>> segments = path_segments(request.target);
  if (!segments) bad_request("malformed percent-escape in the path");

  const Route* found = nullptr;
  std::vector<std::string> allowed;
  for (const Route& route : routes_) {
    if (!shape_matches(route, *segments)) continue;
    if (route.method == request.method) {
      found = &route;
      break;
    }
    if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
      allowed.push_back(route.method);
    }
  }
  if (found == nullptr && allowed.empty()) {
    not_found("no such endpoint: " + request.method + " " + in_quotes(request.path));
  }
  if (found == nullptr) {
    std::sort(allowed.begin(), allowed.end());
    std::string allow;
    for (const std::string& method : allowed) allow += (allow.empty() ? "" : ", ") + method;
    throw ApiError(405, error_code::kMethodNotAllowed,
                   request.method + " is not allowed on " + in_quotes(request.path) +
                       " (allowed: " + allow + ")",
                   {{"Allow", allow}});
  }

  for (std::size_t index = 0; index < found->pattern.size(); ++index) {
    const Segment& segment = found->pattern[index];
    if (!segment.capture) continue;
    const std::string& value = (*segments)[index];
    if (!topology_internal::is_valid_id(value)) {
      bad_request("invalid " + segment.text + " id " + in_quotes(value) +
                  ": expected 1-128 characters from A-Z a-z 0-9 . _ - (not '.' or '..')");
    }
    if (segment.text == "function") match.function = value;
    if (segment.text == "node") match.node = value;
    match.captures.push_back(value);
  }
  for (const auto& [name, value] : request.query) {
    if (std::find(found->query.begin(), found->query.end(), name) != found->query.end()) continue;
    std::string expected;
    for (const std::string& known : found->query)
      expected += (expected.empty() ? "" : ", ") + known;
    bad_request(
        "unknown query parameter " + in_quotes(name) +
        (expected.empty() ? " (this endpoint takes none)" : " (expected: " + expected + ")"));
  }
  return found->handler(request, match);
}

}  // namespace edge::http
