// Maps a method and a path to an endpoint. Patterns are written like
// "/v1/functions/{function}/invoke": a {name} segment captures one path
// segment, which must be a valid id (else 400 naming it).
//
// Not thread-safe to build; dispatch() is const and may run on many threads.
#pragma once

#include "http/message.hpp"

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace edge::http {

struct RouteMatch {
  std::vector<std::string> captures;  // in pattern order
  // Captures named {function} and {node}, for the access log.
  std::string function;
  std::string node;

  const std::string& operator[](std::size_t index) const { return captures.at(index); }
};

using RouteHandler = std::function<HttpResponse(const HttpRequest&, const RouteMatch&)>;

class Router {
 public:
  // `query` lists the query parameters the route accepts; any other is a 400.
  void add(std::string method, std::string_view pattern, RouteHandler handler,
           std::vector<std::string> query = {});

  // Runs the route for the request. Throws ApiError: 404 for an unknown path,
  // 405 (with Allow) for a known path and another method, 400 for a capture
  // that is not an id or an unknown query parameter. `match` is filled as
  // far as it got, also when the handler throws.
  HttpResponse dispatch(const HttpRequest& request, RouteMatch& match) const;

 private:
  struct Segment {
    std::string text;  // the literal, or the capture's name
    bool capture = false;
  };
  struct Route {
    std::string method;
    std::vector<Segment> pattern;
    RouteHandler handler;
    std::vector<std::string> query;
  };
  static bool shape_matches(const Route& route, const std::vector<std::string>& segments);

  std::vector<Route> routes_;
};

}  // namespace edge::http
