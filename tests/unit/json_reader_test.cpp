// http/json_reader: request bodies that are not acceptable JSON are a 400
// naming the problem, never an exception the API does not expect (a 500).
#include "http/json_reader.hpp"
#include "http/api.hpp"
#include "http/api_error.hpp"
#include "log/logger.hpp"

#include <edge/cluster.hpp>

#include "test_paths.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <string>

using edge::http::ApiError;

namespace {

int status_of_parse(const std::string& body) {
  try {
    (void)edge::http::parse_json_body(body);
  } catch (const ApiError& error) {
    CHECK(std::string(error.what()).find("malformed JSON in the request body") !=
          std::string::npos);
    return error.status();
  }
  return 200;
}

}  // namespace

TEST_CASE("a JSON number too large for a double is a bad request") {
  // Regression (fuzz_http): nlohmann reports these as out_of_range, which
  // escaped parse_json_body and became a 500 `internal`.
  CHECK(status_of_parse(R"({"a": 61e308})") == 400);
  CHECK(status_of_parse("[1e999]") == 400);
  CHECK(status_of_parse("-1e400") == 400);
  CHECK(status_of_parse("{\"pl") == 400);
  CHECK(status_of_parse(R"({"a": 1e308})") == 200);
}

TEST_CASE("every endpoint with a JSON body answers an overflowing number with 400") {
  edge::EdgeCluster cluster;
  cluster.register_node(edge::EdgeNode("gw-1"));
  const edge::log::Logger logger(edge::log::Level::Error);
  const edge::http::HttpHandler api =
      edge::http::make_api_handler({cluster, edge::test::plugin("echo").parent_path(), "", logger});
  struct Case {
    const char* method;
    const char* path;
    const char* body;
  };
  const Case cases[] = {
      // The body fuzz_http found (tests/fuzz/corpus/http/crash-json-number-overflow).
      {"PUT", "/v1/functions/l",
       R"({"pl}gin": "echo", "plaeconds": 0.5, "mab": 61e308imu}"name": "Hello"}}"}"nme": "Hello"}})"},
      {"POST", "/v1/functions/l/plan", R"({"plugin": "echo", "memory_mb": 1e999})"},
      {"POST", "/v1/nodes", R"({"id": "gw-2", "max_functions": 1e999})"},
      {"POST", "/v1/nodes/gw-1/heartbeat", R"({"cpu_percent": -9e999})"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.path);
    edge::http::HttpRequest request;
    request.method = c.method;
    request.target = request.path = c.path;
    request.body = c.body;
    request.request_id = "test";
    const edge::http::HttpResponse response = api(request);
    CHECK(response.status == 400);
    CHECK(response.body.find("bad_request") != std::string::npos);
  }
}
