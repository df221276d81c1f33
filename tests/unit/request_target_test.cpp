// The HTTP server's small pure pieces: request targets, request ids and the
// serialised response head.
#include "http/request_target.hpp"
#include "http/request_id.hpp"
#include "http/response_head.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace edge::http;

TEST_CASE("percent_decode decodes escapes, '+' only in queries, and refuses bad escapes") {
  std::string out;
  CHECK(percent_decode("a%20b%2Fc%c3%A9", out, false));
  CHECK(out == "a b/c\xc3\xa9");
  out.clear();
  CHECK(percent_decode("a+b", out, false));
  CHECK(out == "a+b");
  out.clear();
  CHECK(percent_decode("a+b", out, true));
  CHECK(out == "a b");
  for (const char* bad : {"%", "%4", "a%zz", "%%", "%g0"}) {
    CAPTURE(bad);
    std::string ignored;
    CHECK_FALSE(percent_decode(bad, ignored, false));
  }
}

TEST_CASE("parse_target splits the path from the query and decodes both") {
  std::string error;
  const auto target =
      parse_target("/v1/functions/echo/invoke?node=gw%2D1&x=a+b&flag&&=empty", error);
  REQUIRE(target.has_value());
  CHECK(target->path == "/v1/functions/echo/invoke");
  CHECK(target->query.at("node") == "gw-1");
  CHECK(target->query.at("x") == "a b");
  CHECK(target->query.at("flag").empty());
  CHECK(target->query.at("") == "empty");

  const auto repeated = parse_target("/p?a=1&a=2", error);
  CHECK(repeated->query.at("a") == "1");  // the first wins

  CHECK_FALSE(parse_target("http://host/path", error).has_value());
  CHECK(error.find("'/'") != std::string::npos);
  CHECK_FALSE(parse_target("*", error).has_value());
  CHECK_FALSE(parse_target("/a%zz", error).has_value());
  CHECK_FALSE(parse_target("/a?b=%", error).has_value());
}

TEST_CASE("path_segments keeps an escaped slash inside its segment") {
  CHECK(path_segments("/v1/nodes/a%2Fb?x=/y") == std::vector<std::string>{"v1", "nodes", "a/b"});
  CHECK(path_segments("/") == std::vector<std::string>{""});
  CHECK(path_segments("/v1/") == std::vector<std::string>{"v1", ""});
  CHECK_FALSE(path_segments("/v1/%2").has_value());
}

TEST_CASE("request ids: printable ASCII up to 128 characters is echoed, else one is made") {
  CHECK(is_acceptable_request_id("abc-123 with spaces"));
  CHECK(is_acceptable_request_id(std::string(128, 'x')));
  CHECK_FALSE(is_acceptable_request_id(std::string(129, 'x')));
  CHECK_FALSE(is_acceptable_request_id(""));
  CHECK_FALSE(is_acceptable_request_id("a\r\nSet-Cookie: x"));
  CHECK_FALSE(is_acceptable_request_id("caf\xc3\xa9"));

  std::set<std::string> ids;
  for (int index = 0; index < 1000; ++index) {
    const std::string id = generate_request_id();
    CHECK(id.size() == 16);
    CHECK(id.find_first_not_of("0123456789abcdef") == std::string::npos);
    ids.insert(id);
  }
  CHECK(ids.size() == 1000);
}

TEST_CASE("the response head carries the status, lengths, id, headers and connection") {
  HttpResponse response;
  response.status = 404;
  response.body = "{}";
  response.headers = {{"Allow", "GET"}};
  std::string head;
  write_response_head(head, response, {"id-1", true, false});
  CHECK(head ==
        "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
        "X-Request-Id: id-1\r\nAllow: GET\r\n\r\n");

  write_response_head(head, response, {"id-2", false, false});
  CHECK(head.find("Connection: close\r\n\r\n") != std::string::npos);
  write_response_head(head, response, {"id-3", true, true});
  CHECK(head.find("Connection: keep-alive\r\n") != std::string::npos);
  CHECK(reason_phrase(422) == "Unprocessable Entity");
  CHECK(reason_phrase(599) == "Unknown");
}
