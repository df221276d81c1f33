// The test fixture itself: a failing nats-server must make a clear error, not
// a hang or a silent half-started server.
#include "nats_server.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace edge {
namespace {

TEST_CASE("NatsServerProcess: a restart on a port taken meanwhile fails with the server's log") {
  test::NatsServerProcess server;
  const int port = server.port();
  CHECK(port > 0);
  server.stop();
  CHECK_FALSE(server.running());

  // Someone else takes the port while the server is down.
  const int squatter = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(squatter >= 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  const bool taken = ::bind(squatter, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                     ::listen(squatter, 1) == 0;
  if (taken) {
    try {
      server.restart();
      FAIL("nats-server started on a port that was taken");
    } catch (const std::runtime_error& error) {
      const std::string message = error.what();
      CHECK(message.find("on port " + std::to_string(port)) != std::string::npos);
      CHECK(message.find("exited") != std::string::npos);
      CHECK(message.find("address already in use") != std::string::npos);
    }
    CHECK_FALSE(server.running());
  }
  ::close(squatter);
  REQUIRE(taken);
}

}  // namespace
}  // namespace edge
