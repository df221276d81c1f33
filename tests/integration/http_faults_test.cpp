// The fault matrix's HTTP part, against the real edge-host: a trickling
// client, 10,000 idle connections, traversal attempts, and clients that
// vanish mid-request or mid-response. Each ends in a 4xx or a closed
// connection, never a 500 or a crash, with bounded memory, and the host keeps
// serving everyone else.
#include "host_process.hpp"
#include "http_client.hpp"

#include "../unit/process_census.hpp"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;

const std::string kTopology = R"(
nodes:
  - id: node-a
functions:
  - {id: echo, plugin: echo}
  - {id: slow, plugin: sleep, timeout_seconds: 5}
)";

// A raw TCP connection to the host, for what HttpConnection will not do.
int connect_raw(std::uint16_t port) {
  const int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(descriptor >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(descriptor, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0);
  return descriptor;
}

// Closes with a TCP reset instead of a FIN: the abrupt way.
void reset(int descriptor) {
  const linger abort_on_close{1, 0};
  ::setsockopt(descriptor, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
  ::close(descriptor);
}

void send_all(int descriptor, std::string_view bytes) {
  REQUIRE(::send(descriptor, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(bytes.size()));
}

bool echo_works(std::uint16_t port) {
  HttpConnection connection("127.0.0.1", port);
  const HttpReply reply = connection.request("POST", "/v1/functions/echo/invoke", "ping");
  return reply.status == 200 && reply.body == "ping";
}

}  // namespace

TEST_CASE("a client trickling one byte at a time is cut off at the read timeout") {
  HostProcess host(kTopology + "server: {read_timeout_seconds: 1}\n");
  HttpConnection trickle("127.0.0.1", host.port());
  const std::string request =
      "POST /v1/functions/echo/invoke HTTP/1.1\r\nContent-Length: 400\r\n\r\n";
  const auto start = std::chrono::steady_clock::now();
  bool closed = false;
  for (std::size_t sent = 0; sent < request.size() + 400 && !closed; ++sent) {
    const char byte = sent < request.size() ? request[sent] : 'x';
    closed = !trickle.send(std::string_view(&byte, 1));
    std::this_thread::sleep_for(100ms);
    CHECK(std::chrono::steady_clock::now() - start < 10s);
    if (std::chrono::steady_clock::now() - start > 10s) break;
  }
  CHECK((closed || trickle.wait_for_close(5s)));
  CHECK(std::chrono::steady_clock::now() - start < 4s);
  CHECK(echo_works(host.port()));
}

TEST_CASE("10,000 idle connections cost bounded memory and block no one") {
  HostProcess host(kTopology + "server: {max_connections: 20000, idle_timeout_seconds: 60}\n");
  const pid_t pid = host.process().pid();
  const std::size_t before = resident_kib(pid);
  std::vector<int> idle;
  idle.reserve(10'000);
  for (int index = 0; index < 10'000; ++index) idle.push_back(connect_raw(host.port()));
  CHECK(echo_works(host.port()));
  std::this_thread::sleep_for(500ms);  // let the host accept them all
  const std::size_t with_idle = resident_kib(pid);
  MESSAGE("host RSS " << before / 1024 << " MiB before, " << with_idle / 1024
                      << " MiB with 10,000 idle connections");
  CHECK(with_idle < before + 200UL * 1024);  // under 20 KiB a connection
  for (const int descriptor : idle) ::close(descriptor);
  CHECK(echo_works(host.port()));
}

TEST_CASE("traversal attempts in ids and plugin names are 400, never a file outside plugin_dir") {
  HostProcess host(kTopology);
  HttpConnection connection("127.0.0.1", host.port());
  for (const char* target : {"/v1/functions/..%2F..%2Fetc%2Fpasswd/invoke",
                             "/v1/functions/%2e%2e/invoke", "/v1/functions/%FF%FE/invoke"}) {
    CAPTURE(target);
    CHECK(connection.request("POST", target, "x").status == 400);
  }
  CHECK(connection.request("GET", "/v1/nodes/..%2Fnode-a").status == 400);
  for (const char* plugin : {"../../etc/passwd", "/etc/passwd", "..", "echo/../../x"}) {
    CAPTURE(plugin);
    const HttpReply reply = connection.request("PUT", "/v1/functions/evil",
                                               std::string(R"({"plugin": ")") + plugin + "\"}");
    CHECK(reply.status == 400);
  }
  CHECK(connection.request("GET", "/v1/functions/evil").status == 404);
}

TEST_CASE("clients that vanish mid-request or mid-response leave the host serving") {
  HostProcess host(kTopology);
  const std::uint16_t port = host.port();
  for (int round = 0; round < 20; ++round) {
    // Headers promise a body that never comes.
    int descriptor = connect_raw(port);
    send_all(descriptor,
             "POST /v1/functions/echo/invoke HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc");
    reset(descriptor);
    // Half a request line.
    descriptor = connect_raw(port);
    send_all(descriptor, "GET /v1/func");
    reset(descriptor);
    // A call in flight whose caller leaves before the answer.
    descriptor = connect_raw(port);
    send_all(descriptor, "POST /v1/functions/slow/invoke HTTP/1.1\r\nContent-Length: 2\r\n\r\n50");
    reset(descriptor);
    // A large answer, read a few bytes of, then gone.
    descriptor = connect_raw(port);
    const std::string big(512UL * 1024, 'y');
    send_all(descriptor, "POST /v1/functions/echo/invoke HTTP/1.1\r\nContent-Length: " +
                             std::to_string(big.size()) + "\r\n\r\n" + big);
    char some[16];
    (void)::recv(descriptor, some, sizeof some, 0);
    reset(descriptor);
  }
  CHECK(echo_works(port));
  HttpConnection connection("127.0.0.1", port);
  const HttpReply health = connection.request("GET", "/v1/health");
  CHECK(health.status == 200);
  // Nothing was answered 500, and the host is still the same process.
  const ChildProcess::Exit exit = host.stop(SIGTERM);
  CHECK(exit.exited);
  CHECK(exit.code == 0);
  CHECK(host.process().errors().find("status=500") == std::string::npos);
}

}  // namespace edge::test
