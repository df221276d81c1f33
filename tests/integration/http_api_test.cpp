// The HTTP API of docs/http-api.md, end to end: the real edge-host on a free
// port, spoken to over real sockets.
#include "host_process.hpp"
#include "http_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace edge::test {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// Two plain nodes; a function on each, one that always fails, and one that
// needs a capability no node has (pending).
const std::string kTopology = R"(
cluster: {name: http-test}
nodes:
  - id: node-a
  - id: node-b
functions:
  - {id: echo, plugin: echo}
  - {id: always-fails, plugin: fail}
  - {id: needs-gpu, plugin: echo, required_capabilities: [gpu], placement: least_loaded}
)";

json body_of(const HttpReply& reply) {
  INFO("body: " << reply.body);
  return json::parse(reply.body);
}

// The contract's error shape, with the status and code the table gives.
void check_error(const HttpReply& reply, int status, const std::string& code) {
  INFO("reply " << reply.status << ": " << reply.body);
  CHECK(reply.status == status);
  REQUIRE(reply.header("content-type") != nullptr);
  CHECK(*reply.header("content-type") == "application/json");
  CHECK(reply.header("x-request-id") != nullptr);
  const json body = body_of(reply);
  REQUIRE(body.contains("error"));
  CHECK(body["error"]["code"] == code);
  CHECK_FALSE(body["error"]["message"].get<std::string>().empty());
}

// Polls until `done()` (a condition the server reaches on its own time), or
// fails the test after `timeout`.
template <typename Done>
void eventually(Done done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "condition not reached in time");
    std::this_thread::sleep_for(10ms);
  }
}

// Calls of `function` running now, summed over its nodes.
std::int64_t in_flight(std::uint16_t port, const std::string& function) {
  const json view = body_of(http_request(port, "GET", "/v1/functions/" + function));
  std::int64_t running = 0;
  for (const auto& [node, stats] : view["stats"].items())
    running += stats["in_flight"].get<std::int64_t>();
  return running;
}

std::string put_body(const json& definition) { return definition.dump(); }

}  // namespace

TEST_CASE("health, liveness and metrics") {
  HostProcess host(kTopology);

  const HttpReply healthz = http_request(host.port(), "GET", "/healthz");
  CHECK(healthz.status == 200);
  CHECK(body_of(healthz) == json{{"status", "ok"}});

  const HttpReply health = http_request(host.port(), "GET", "/v1/health");
  CHECK(health.status == 200);
  CHECK(body_of(health)["status"] == "healthy");
  CHECK(body_of(health)["pending_functions"] == 1);

  const HttpReply metrics = http_request(host.port(), "GET", "/metrics");
  CHECK(metrics.status == 200);
  REQUIRE(metrics.header("content-type") != nullptr);
  CHECK(metrics.header("content-type")->starts_with("text/plain; version=0.0.4"));

  // Every node gone: the cluster is empty, and a load balancer must see 503.
  CHECK(http_request(host.port(), "DELETE", "/v1/nodes/node-a").status == 200);
  CHECK(http_request(host.port(), "DELETE", "/v1/nodes/node-b").status == 200);
  const HttpReply empty = http_request(host.port(), "GET", "/v1/health");
  CHECK(empty.status == 503);
  CHECK(body_of(empty)["status"] == "empty");
}

TEST_CASE("functions: list, get, deploy, replace, plan, warm and remove") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();

  const json list = body_of(http_request(port, "GET", "/v1/functions"));
  REQUIRE(list["functions"].size() == 3);
  CHECK(list["functions"][0]["id"] == "always-fails");  // sorted by id
  CHECK(list["functions"][1]["id"] == "echo");
  CHECK(list["functions"][2]["id"] == "needs-gpu");
  const json& echo = list["functions"][1];
  CHECK(echo["plugin"] == "echo");
  CHECK(echo["placement"] == "all");
  CHECK(echo["nodes"] == json{"node-a", "node-b"});
  CHECK(echo["pending"] == false);
  CHECK(echo["memory_mb"] == 16);  // the descriptor's default
  CHECK(echo["timeout_seconds"] == 1);
  for (const char* key : {"name", "max_in_flight", "required_capabilities", "environment",
                          "invocations", "errors", "cold_starts"}) {
    CHECK_MESSAGE(echo.contains(key), key);
  }
  CHECK(list["functions"][2]["pending"] == true);

  SUBCASE("get one, with stats per node and the plugin's descriptor") {
    REQUIRE(http_request(port, "POST", "/v1/functions/echo/invoke?node=node-a", "x").status == 200);
    const json view = body_of(http_request(port, "GET", "/v1/functions/echo"));
    CHECK(view["invocations"] == 1);
    CHECK(view["cold_starts"] == 1);
    CHECK(view["stats"]["node-a"]["invocations"] == 1);
    CHECK(view["stats"]["node-b"]["invocations"] == 0);
    CHECK(view["plugin_info"]["name"] == "echo");
  }
  SUBCASE("PUT deploys (201), then replaces (200)") {
    const HttpReply created = http_request(port, "PUT", "/v1/functions/greeter",
                                           put_body({{"plugin", "env"},
                                                     {"placement", "least_loaded"},
                                                     {"environment", {{"GREETING", "hi"}}},
                                                     {"timeout_seconds", 2},
                                                     {"max_in_flight", 3}}));
    CHECK(created.status == 201);
    const json view = body_of(created);
    CHECK(view["id"] == "greeter");
    CHECK(view["placement"] == "least_loaded");
    CHECK(view["nodes"].size() == 1);
    CHECK(view["timeout_seconds"] == 2);
    CHECK(view["max_in_flight"] == 3);
    const HttpReply call = http_request(port, "POST", "/v1/functions/greeter/invoke", "GREETING");
    CHECK(call.status == 200);
    CHECK(call.body == "hi");

    const HttpReply replaced =
        http_request(port, "PUT", "/v1/functions/greeter", put_body({{"plugin", "echo"}}));
    CHECK(replaced.status == 200);
    CHECK(body_of(replaced)["placement"] == "all");
    CHECK(body_of(replaced)["nodes"].size() == 2);
    CHECK(http_request(port, "POST", "/v1/functions/greeter/invoke", "GREETING").body ==
          "GREETING");
  }
  SUBCASE("PUT of a function no node can take: still 201, pending") {
    const HttpReply reply =
        http_request(port, "PUT", "/v1/functions/gpu-job",
                     put_body({{"plugin", "echo"}, {"required_capabilities", {"gpu"}}}));
    CHECK(reply.status == 201);
    CHECK(body_of(reply)["pending"] == true);
  }
  SUBCASE("plan says where it would go and why not elsewhere, changing nothing") {
    const HttpReply reply =
        http_request(port, "POST", "/v1/functions/planned/plan",
                     put_body({{"plugin", "echo"}, {"required_capabilities", {"gpu"}}}));
    CHECK(reply.status == 200);
    const json plan = body_of(reply);
    CHECK(plan["placement"] == "all");
    CHECK(plan["nodes"].empty());
    CHECK(plan["rejected"]["node-a"].get<std::string>().find("gpu") != std::string::npos);
    CHECK(http_request(port, "GET", "/v1/functions/planned").status == 404);
  }
  SUBCASE("warm loads the plugin on every node running it") {
    const HttpReply reply = http_request(port, "POST", "/v1/functions/echo/warm");
    CHECK(reply.status == 200);
    CHECK(body_of(reply) == json{{"warmed", {"node-a", "node-b"}}});
    const HttpReply call = http_request(port, "POST", "/v1/functions/echo/invoke", "x");
    REQUIRE(call.header("x-edge-cold-start") != nullptr);
    CHECK(*call.header("x-edge-cold-start") == "false");
  }
  SUBCASE("DELETE removes it; a second DELETE is 404") {
    const HttpReply removed = http_request(port, "DELETE", "/v1/functions/echo");
    CHECK(removed.status == 200);
    CHECK(body_of(removed) == json{{"removed", "echo"}});
    check_error(http_request(port, "DELETE", "/v1/functions/echo"), 404, "not_found");
    check_error(http_request(port, "POST", "/v1/functions/echo/invoke", "x"), 404, "not_found");
  }
}

TEST_CASE("PUT refuses bad definitions with 400 naming the field") {
  HostProcess host(kTopology);
  const auto put = [&](const std::string& body) {
    return http_request(host.port(), "PUT", "/v1/functions/f", body);
  };
  struct Case {
    std::string body;
    std::string names;  // in the message
  };
  const std::vector<Case> cases{
      {R"({"plugin": "echo",)", "line 1"},                   // malformed JSON
      {"", "plugin"},                                        // no body
      {R"(["echo"])", "JSON object"},                        // not an object
      {R"({"placement": "all"})", "'plugin'"},               // plugin missing
      {R"({"plugin": "../plugins/echo"})", "never a path"},  // a path
      {R"({"plugin": "a/b"})", "never a path"},
      {R"({"plugin": ".."})", "never a path"},
      {R"({"plugin": "no-such-plugin"})", "not found"},
      {R"({"plugin": "echo", "memory_mb": "12"})", "memory_mb"},  // wrong type
      {R"({"plugin": "echo", "memory_mb": -1})", "memory_mb"},    // out of range
      {R"({"plugin": "echo", "timeout_seconds": 0})", "timeout_seconds"},
      {R"({"plugin": "echo", "max_in_flight": 1.5})", "max_in_flight"},
      {R"({"plugin": "echo", "placement": "random"})", "placement"},
      {R"({"plugin": "echo", "environment": {"1X": "a"}})", "environment"},
      {R"({"plugin": "echo", "environment": {"X": 1}})", "environment.X"},
      {R"({"plugin": "echo", "required_capabilities": "gpu"})", "required_capabilities"},
      {R"({"plugin": "echo", "replicas": 3})", "'replicas'"},  // unknown field
  };
  for (const Case& test : cases) {
    CAPTURE(test.body);
    const HttpReply reply = put(test.body);
    check_error(reply, 400, "bad_request");
    CHECK(body_of(reply)["error"]["message"].get<std::string>().find(test.names) !=
          std::string::npos);
  }
  CHECK(http_request(host.port(), "GET", "/v1/functions/f").status == 404);  // nothing deployed
}

TEST_CASE("invoke: output bytes, node and timing headers, request ids") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();

  const std::string input("binary \0\x01\xff input", 16);
  const HttpReply first = http_request(port, "POST", "/v1/functions/echo/invoke?node=node-b", input,
                                       {{"X-Request-Id", "test-id-1"}});
  CHECK(first.status == 200);
  CHECK(first.body == input);
  CHECK(*first.header("content-type") == "application/octet-stream");
  CHECK(*first.header("x-edge-node") == "node-b");
  CHECK(*first.header("x-edge-cold-start") == "true");
  CHECK(std::stod(*first.header("x-edge-duration-ms")) >= 0);
  CHECK(*first.header("x-request-id") == "test-id-1");

  const HttpReply second = http_request(port, "POST", "/v1/functions/echo/invoke?node=node-b", "");
  CHECK(second.status == 200);
  CHECK(second.body.empty());
  CHECK(*second.header("x-edge-cold-start") == "false");
  const std::string* generated = second.header("x-request-id");
  REQUIRE(generated != nullptr);
  CHECK(generated->size() == 16);
  CHECK(generated->find_first_not_of("0123456789abcdef") == std::string::npos);

  // An id that could split a header or a log line is replaced.
  const std::string long_id(200, 'x');
  const HttpReply replaced =
      http_request(port, "POST", "/v1/functions/echo/invoke", "", {{"X-Request-Id", long_id}});
  CHECK(replaced.header("x-request-id")->size() == 16);

  // Routed without ?node: some node running it answers.
  const HttpReply routed = http_request(port, "POST", "/v1/functions/echo/invoke", "hi");
  CHECK(routed.body == "hi");
  const std::string node = *routed.header("x-edge-node");
  CHECK((node == "node-a" || node == "node-b"));

  check_error(http_request(port, "POST", "/v1/functions/echo/invoke?node=nowhere", "x"), 404,
              "not_found");
  check_error(http_request(port, "POST", "/v1/functions/echo/invoke?nod=node-a", "x"), 400,
              "bad_request");
  check_error(http_request(port, "POST", "/v1/functions/echo/invoke?node=a%20b", "x"), 400,
              "bad_request");
  // A function present in the cluster, but not on that node.
  REQUIRE(http_request(port, "PUT", "/v1/functions/solo",
                       put_body({{"plugin", "echo"}, {"placement", "least_loaded"}}))
              .status == 201);
  const std::string solo_node =
      body_of(http_request(port, "GET", "/v1/functions/solo"))["nodes"][0];
  const std::string other = solo_node == "node-a" ? "node-b" : "node-a";
  check_error(http_request(port, "POST", "/v1/functions/solo/invoke?node=" + other, "x"), 404,
              "not_found");
}

TEST_CASE("invoke errors: 404, 422 pending, 502 failing plugin, 504 timeout, 429 busy") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();

  check_error(http_request(port, "POST", "/v1/functions/nope/invoke", "x"), 404, "not_found");
  check_error(http_request(port, "POST", "/v1/functions/needs-gpu/invoke", "x"), 422,
              "unschedulable");
  const HttpReply failed = http_request(port, "POST", "/v1/functions/always-fails/invoke", "why");
  check_error(failed, 502, "plugin_error");
  CHECK(body_of(failed)["error"]["message"].get<std::string>().find("requested failure: why") !=
        std::string::npos);

  REQUIRE(http_request(port, "PUT", "/v1/functions/quick",
                       put_body({{"plugin", "sleep"}, {"timeout_seconds", 0.2}}))
              .status == 201);
  check_error(http_request(port, "POST", "/v1/functions/quick/invoke", "5000"), 504, "timeout");

  // One call may run at a time: a second one while the first sleeps is refused.
  REQUIRE(http_request(
              port, "PUT", "/v1/functions/single",
              put_body({{"plugin", "sleep"}, {"placement", "least_loaded"}, {"max_in_flight", 1}}))
              .status == 201);
  HttpConnection slow("127.0.0.1", port, 30s);
  REQUIRE(slow.send(format_request("POST", "/v1/functions/single/invoke", "1500")));
  eventually([&] { return in_flight(port, "single") == 1; });
  check_error(http_request(port, "POST", "/v1/functions/single/invoke", "0"), 429, "busy");
  const HttpReply first = slow.read_reply();
  CHECK(first.status == 200);
  CHECK(first.body == "slept 1500");
  CHECK(http_request(port, "POST", "/v1/functions/single/invoke", "0").status == 200);
}

TEST_CASE("nodes: list, get, register, heartbeat, drain, resume, deregister") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();

  const json list = body_of(http_request(port, "GET", "/v1/nodes"));
  REQUIRE(list["nodes"].size() == 2);
  CHECK(list["nodes"][0]["id"] == "node-a");
  CHECK(list["nodes"][0]["functions"] == json{"always-fails", "echo"});
  CHECK(list["nodes"][0]["seconds_since_heartbeat"].get<double>() >= 0);
  CHECK(list["nodes"][0]["status"] == "online");

  const json node_a = body_of(http_request(port, "GET", "/v1/nodes/node-a"));
  CHECK(node_a["summary"]["node_id"] == "node-a");
  check_error(http_request(port, "GET", "/v1/nodes/node-z"), 404, "not_found");

  const HttpReply registered = http_request(
      port, "POST", "/v1/nodes",
      json{{"id", "gpu-1"}, {"capabilities", {"gpu"}}, {"resources", {{"memory_max_mb", 4096}}}}
          .dump());
  CHECK(registered.status == 201);
  CHECK(body_of(registered)["capabilities"] == json{"gpu"});
  // The pending function found its node, and echo (placement all) came too.
  CHECK(body_of(registered)["functions"] == json{"always-fails", "echo", "needs-gpu"});
  CHECK(http_request(port, "POST", "/v1/functions/needs-gpu/invoke", "ok").body == "ok");
  check_error(http_request(port, "POST", "/v1/nodes", R"({"id": "gpu-1"})"), 409, "conflict");
  check_error(http_request(port, "POST", "/v1/nodes", R"({"id": "a b"})"), 400, "bad_request");
  check_error(http_request(port, "POST", "/v1/nodes", R"({"id": "n", "max_functions": 0})"), 400,
              "bad_request");

  const HttpReply beat = http_request(port, "POST", "/v1/nodes/gpu-1/heartbeat",
                                      R"({"cpu_percent": 95, "memory_mb": 100})");
  CHECK(beat.status == 200);
  CHECK(body_of(beat)["status"] == "degraded");
  CHECK(body_of(beat)["resources"]["memory_max_mb"] == 4096);                    // kept
  CHECK(http_request(port, "POST", "/v1/nodes/gpu-1/heartbeat").status == 200);  // no body
  for (const char* bad : {R"({"cpu_percent": 101})", R"({"cpu_percent": -1})",
                          R"({"cpu_percent": "50"})", R"({"cpu": 5})", "{"}) {
    CAPTURE(bad);
    check_error(http_request(port, "POST", "/v1/nodes/gpu-1/heartbeat", bad), 400, "bad_request");
  }
  check_error(http_request(port, "POST", "/v1/nodes/node-z/heartbeat"), 404, "not_found");

  const HttpReply drained = http_request(port, "POST", "/v1/nodes/gpu-1/drain");
  CHECK(drained.status == 200);
  CHECK(body_of(drained)["status"] == "maintenance");
  CHECK(body_of(drained)["functions"].empty());
  check_error(http_request(port, "POST", "/v1/functions/needs-gpu/invoke", "x"), 422,
              "unschedulable");
  const HttpReply resumed = http_request(port, "POST", "/v1/nodes/gpu-1/resume");
  CHECK(resumed.status == 200);
  CHECK(body_of(resumed)["status"] != "maintenance");

  const HttpReply removed = http_request(port, "DELETE", "/v1/nodes/gpu-1");
  CHECK(removed.status == 200);
  CHECK(body_of(removed) == json{{"deregistered", "gpu-1"}});
  check_error(http_request(port, "DELETE", "/v1/nodes/gpu-1"), 404, "not_found");
}

TEST_CASE("routing errors: 404 unknown route, 405 with Allow, 400 bad ids") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();
  check_error(http_request(port, "GET", "/v2/functions"), 404, "not_found");
  check_error(http_request(port, "GET", "/v1/functions/echo/nope"), 404, "not_found");

  const HttpReply wrong_method = http_request(port, "DELETE", "/v1/health");
  check_error(wrong_method, 405, "method_not_allowed");
  REQUIRE(wrong_method.header("allow") != nullptr);
  CHECK(*wrong_method.header("allow") == "GET");
  const HttpReply function_methods = http_request(port, "POST", "/v1/functions/echo");
  check_error(function_methods, 405, "method_not_allowed");
  CHECK(*function_methods.header("allow") == "DELETE, GET, PUT");

  for (const char* target : {"/v1/functions/a%2Fb", "/v1/functions/..", "/v1/functions/%00x",
                             "/v1/nodes/%C3%A9t%C3%A9", "/v1/functions/%ZZ"}) {
    CAPTURE(target);
    check_error(http_request(port, "GET", target), 400, "bad_request");
  }
  check_error(http_request(port, "GET", "/v1/functions/" + std::string(129, 'a')), 400,
              "bad_request");
}

TEST_CASE("a token protects every endpoint but /healthz") {
  SUBCASE("from the topology") {
    HostProcess host(kTopology + "server: {token: s3cret}\n");
    const std::uint16_t port = host.port();
    check_error(http_request(port, "GET", "/v1/functions"), 401, "unauthorized");
    check_error(http_request(port, "GET", "/v1/functions", "", {{"Authorization", "Bearer wrong"}}),
                401, "unauthorized");
    check_error(http_request(port, "GET", "/v1/functions", "", {{"Authorization", "s3cret"}}), 401,
                "unauthorized");
    check_error(http_request(port, "GET", "/no-such-route"), 401, "unauthorized");
    CHECK(*http_request(port, "GET", "/metrics").header("www-authenticate") == "Bearer");
    CHECK(http_request(port, "GET", "/v1/functions", "", {{"Authorization", "Bearer s3cret"}})
              .status == 200);
    CHECK(http_request(port, "GET", "/healthz").status == 200);
  }
  SUBCASE("EDGE_TOKEN wins over the topology") {
    const ScopedEnvironment token("EDGE_TOKEN", "from-env");
    HostProcess host(kTopology + "server: {token: s3cret}\n");
    check_error(
        http_request(host.port(), "GET", "/v1/nodes", "", {{"Authorization", "Bearer s3cret"}}),
        401, "unauthorized");
    CHECK(http_request(host.port(), "GET", "/v1/nodes", "", {{"Authorization", "Bearer from-env"}})
              .status == 200);
  }
  SUBCASE("without a token nothing is asked") {
    HostProcess host(kTopology);
    CHECK(http_request(host.port(), "GET", "/v1/nodes").status == 200);
  }
}

TEST_CASE("413 for a body over the limit, and the connection is closed") {
  HostProcess host(kTopology);
  HttpConnection connection("127.0.0.1", host.port());
  const std::string two_mebibytes(std::size_t{2} << 20, 'x');
  connection.send(format_request("POST", "/v1/functions/echo/invoke", two_mebibytes));
  const HttpReply reply = connection.read_reply();
  check_error(reply, 413, "payload_too_large");
  CHECK(*reply.header("connection") == "close");
  CHECK(connection.wait_for_close(10s));

  // Just under the limit is served.
  const std::string under((std::size_t{1} << 20) - 1, 'y');
  CHECK(http_request(host.port(), "POST", "/v1/functions/echo/invoke", under).body == under);
}

TEST_CASE("keep-alive and pipelining: requests on one connection, answered in order") {
  HostProcess host(kTopology);
  HttpConnection connection("127.0.0.1", host.port());
  CHECK(connection.request("POST", "/v1/functions/echo/invoke", "one").body == "one");
  CHECK(connection.request("POST", "/v1/functions/echo/invoke", "two").body == "two");

  // Three requests in one write; the second is an error, which must not
  // disturb the order or the connection.
  connection.send(format_request("POST", "/v1/functions/echo/invoke", "first") +
                  format_request("GET", "/v1/nodes/nobody") +
                  format_request("POST", "/v1/functions/echo/invoke", "third"));
  CHECK(connection.read_reply().body == "first");
  CHECK(connection.read_reply().status == 404);
  CHECK(connection.read_reply().body == "third");

  // "Connection: close" is honoured after the answer.
  const HttpReply last = connection.request("GET", "/healthz", "", {{"Connection", "close"}});
  CHECK(last.status == 200);
  CHECK(*last.header("connection") == "close");
  CHECK(connection.wait_for_close(10s));
}

TEST_CASE("malformed HTTP gets 400 and the connection is closed") {
  HostProcess host(kTopology);
  for (const std::string request :
       {"NOT HTTP AT ALL\r\n\r\n", "GET /healthz HTTP/9.9\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"}) {
    CAPTURE(request);
    HttpConnection connection("127.0.0.1", host.port());
    connection.send(request);
    const HttpReply reply = connection.read_reply();
    check_error(reply, 400, "bad_request");
    CHECK(connection.wait_for_close(10s));
  }
  // A header larger than the limit is refused too.
  HttpConnection connection("127.0.0.1", host.port());
  connection.send(
      format_request("GET", "/healthz", "", {{"X-Big", std::string(64UL * 1024, 'h')}}));
  check_error(connection.read_reply(), 400, "bad_request");
  CHECK(connection.wait_for_close(10s));
}

TEST_CASE("beyond max_connections a new connection is closed at once") {
  HostProcess host(kTopology + "server: {max_connections: 2}\n");
  HttpConnection first("127.0.0.1", host.port());
  HttpConnection second("127.0.0.1", host.port());
  // Both are accepted and served (and so counted).
  CHECK(first.request("GET", "/healthz").status == 200);
  CHECK(second.request("GET", "/healthz").status == 200);

  HttpConnection third("127.0.0.1", host.port());
  CHECK(third.wait_for_close(10s));

  // Once one closes, its slot is free again (the server notices the close
  // asynchronously, so poll).
  first.close();
  eventually([&] {
    HttpConnection again("127.0.0.1", host.port());
    again.send(format_request("GET", "/healthz"));
    try {
      return again.read_reply().status == 200;
    } catch (const std::runtime_error&) {
      return false;  // closed: not yet
    }
  });
}

TEST_CASE("a client that stops halfway through a request is cut off after the read timeout") {
  HostProcess host(kTopology + "server: {read_timeout_seconds: 1, idle_timeout_seconds: 30}\n");
  HttpConnection idle("127.0.0.1", host.port());
  REQUIRE(idle.request("GET", "/healthz").status == 200);

  HttpConnection slow("127.0.0.1", host.port());
  const auto start = std::chrono::steady_clock::now();
  slow.send("POST /v1/functions/echo/invoke HTTP/1.1\r\nContent-Length: 10\r\n\r\nhalf");
  CHECK(slow.wait_for_close(15s));
  CHECK(std::chrono::steady_clock::now() - start >= 900ms);

  // The idle keep-alive connection outlived the read timeout: its wait for a
  // next request is bounded by the idle timeout instead.
  CHECK(idle.request("GET", "/healthz").status == 200);
}

TEST_CASE("SIGTERM lets a call in flight finish, closes idle connections, and exits 0") {
  // A drain timeout longer than the waits below: the host must not need it.
  HostProcess host(kTopology + "server: {drain_timeout_seconds: 60}\n");
  const std::uint16_t port = host.port();
  REQUIRE(http_request(port, "PUT", "/v1/functions/nap", put_body({{"plugin", "sleep"}})).status ==
          201);
  HttpConnection idle("127.0.0.1", port, 30s);
  REQUIRE(idle.request("GET", "/healthz").status == 200);
  HttpConnection call("127.0.0.1", port, 30s);
  REQUIRE(call.send(format_request("POST", "/v1/functions/nap/invoke", "500")));
  eventually([&] { return in_flight(port, "nap") == 1; });

  REQUIRE(host.process().send_signal(SIGTERM));
  const HttpReply reply = call.read_reply();
  CHECK(reply.status == 200);
  CHECK(reply.body == "slept 500");
  CHECK(*reply.header("connection") == "close");
  CHECK(idle.wait_for_close(20s));

  const ChildProcess::Exit exit = host.process().wait(20s);
  CHECK_FALSE(exit.timed_out);
  CHECK(exit.exited);
  CHECK(exit.code == 0);
  CHECK(host.process().output().find("received SIGTERM") != std::string::npos);
}

TEST_CASE("a port already in use is an error naming the address, exit 1") {
  HostProcess first(kTopology);
  TemporaryDirectory directory;
  const std::filesystem::path file = directory.path() / "topology.yaml";
  std::ofstream(file) << kTopology;
  const std::string address = "127.0.0.1:" + std::to_string(first.port());
  ChildProcess second({EDGE_HOST_BINARY, "--config", file.string(), "--plugin-dir",
                       EDGE_TEST_PLUGIN_DIR, "--listen", address});
  const ChildProcess::Exit exit = second.wait(20s);
  REQUIRE(exit.exited);
  CHECK(exit.code == 1);
  CHECK(second.errors().starts_with("edge-host: error: cannot listen on " + address + ": "));
}

TEST_CASE("the access log: one JSON line per request with its id, status and function") {
  HostProcess host(kTopology, {"--log-level", "info", "--log-format", "json"});
  REQUIRE(http_request(host.port(), "POST", "/v1/functions/echo/invoke?node=node-a", "x",
                       {{"X-Request-Id", "trace-me"}})
              .status == 200);
  const ChildProcess::Exit exit = host.stop(SIGTERM);
  CHECK(exit.code == 0);

  bool found = false;
  std::size_t start = 0;
  const std::string& errors = host.process().errors();
  for (std::size_t end = errors.find('\n'); end != std::string::npos;
       start = end + 1, end = errors.find('\n', start)) {
    const json line = json::parse(errors.substr(start, end - start));  // every line is JSON
    CHECK(line.contains("ts"));
    CHECK(line.contains("level"));
    CHECK(line.contains("msg"));
    if (line.value("request_id", "") != "trace-me") continue;
    found = true;
    CHECK(line["level"] == "info");
    CHECK(line["method"] == "POST");
    CHECK(line["path"] == "/v1/functions/echo/invoke");
    CHECK(line["status"] == 200);
    CHECK(line["function"] == "echo");
    CHECK(line["node"] == "node-a");
    CHECK(line["duration_ms"].get<double>() >= 0);
    CHECK(line["ts"].get<std::string>().ends_with("Z"));
  }
  CHECK(found);
}

}  // namespace edge::test
