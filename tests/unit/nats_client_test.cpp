#include "nats/nats_client.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "nats_server.hpp"
#include "nats_test_support.hpp"

namespace edge {
namespace {

using namespace std::chrono_literals;
using nats::Message;
using nats::NatsClient;
using Clock = std::chrono::steady_clock;

struct Received {
  std::string subject;
  std::string reply_subject;
  std::string payload;
};

Received copy_of(const Message& message) {
  return {std::string(message.subject), std::string(message.reply_subject),
          std::string(message.payload)};
}

// A TCP port on 127.0.0.1 bound by this process but not listening: a connect
// to it is refused, and no other process can start listening on it meanwhile.
class RefusingPort {
 public:
  RefusingPort() : socket_(::socket(AF_INET, SOCK_STREAM, 0)) {
    REQUIRE(socket_ >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(socket_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    socklen_t length = sizeof address;
    REQUIRE(::getsockname(socket_, reinterpret_cast<sockaddr*>(&address), &length) == 0);
    port_ = ntohs(address.sin_port);
  }
  ~RefusingPort() { ::close(socket_); }
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  int port() const noexcept { return port_; }

 private:
  int socket_;
  int port_ = 0;
};

TEST_CASE("NatsClient: a published message reaches the subscriber, bytes intact") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  CHECK(client.connected());
  CHECK(client.max_payload() == 1024 * 1024);

  test::Recorder<Received> received;
  nats::Subscription subscription = client.subscribe(
      "edge.test.>", [&](const Message& message) { received.add(copy_of(message)); });
  const std::string binary("a\0b\xff", 4);
  client.publish("edge.test.one", "hello");
  client.publish("edge.test.two.deep", binary);
  client.publish("edge.other", "not for us");
  client.flush(5s);

  REQUIRE(received.wait_for_count(2));
  const std::vector<Received> items = received.items();
  REQUIRE(items.size() == 2);
  CHECK(items[0].subject == "edge.test.one");
  CHECK(items[0].payload == "hello");
  CHECK(items[0].reply_subject.empty());
  CHECK(items[1].subject == "edge.test.two.deep");
  CHECK(items[1].payload == binary);
}

TEST_CASE("NatsClient: a queue group delivers each message to exactly one member") {
  test::NatsServerProcess server;
  // Two members on two connections, as two hosts would be.
  NatsClient first_host(test::client_options(server, "first"));
  NatsClient second_host(test::client_options(server, "second"));
  NatsClient publisher(test::client_options(server, "publisher"));
  test::Recorder<std::string> first;
  test::Recorder<std::string> second;
  nats::Subscription first_member = first_host.queue_subscribe(
      "edge.work", "workers",
      [&](const Message& message) { first.add(std::string(message.payload)); });
  nats::Subscription second_member = second_host.queue_subscribe(
      "edge.work", "workers",
      [&](const Message& message) { second.add(std::string(message.payload)); });
  first_host.flush(5s);  // the server has both subscriptions before the first message
  second_host.flush(5s);

  constexpr int kMessages = 200;
  for (int index = 0; index < kMessages; ++index)
    publisher.publish("edge.work", std::to_string(index));
  publisher.flush(5s);

  const auto deadline = Clock::now() + test::kEventDeadline;
  while (first.size() + second.size() < kMessages && Clock::now() < deadline) {
    std::this_thread::sleep_for(2ms);
  }
  // A duplicate would arrive right behind the others: give it the time to.
  std::this_thread::sleep_for(200ms);
  std::vector<std::string> all = first.items();
  const std::vector<std::string> more = second.items();
  all.insert(all.end(), more.begin(), more.end());
  CHECK(all.size() == kMessages);
  const std::set<std::string> distinct(all.begin(), all.end());
  CHECK(distinct.size() == kMessages);
  // Both members got work (each message picks one at random: 2^-199 odds otherwise).
  CHECK(first.size() > 0);
  CHECK(second.size() > 0);
}

TEST_CASE("NatsClient: request/reply, every request through one shared reply subscription") {
  test::NatsServerProcess server;
  NatsClient responder_client(test::client_options(server, "responder"));
  NatsClient client(test::client_options(server, "requester"));
  test::Recorder<std::string> reply_subjects;
  nats::Subscription responder =
      responder_client.subscribe("edge.echo", [&](const Message& message) {
        reply_subjects.add(std::string(message.reply_subject));
        responder_client.respond(message.reply_subject, "re:" + std::string(message.payload));
      });
  responder_client.flush(5s);

  CHECK(client.request("edge.echo", "one", 5s) == "re:one");
  CHECK(client.request("edge.echo", std::string("t\0o", 3), 5s) == "re:" + std::string("t\0o", 3));
  CHECK(client.request("edge.echo", "", 5s) == "re:");

  // libnats' response multiplexer: one wildcard subscription _INBOX.<id>.*,
  // and each request a token under it. An old-style request would use a
  // fresh inbox (and a SUB/UNSUB) per call.
  const std::vector<std::string> subjects = reply_subjects.items();
  REQUIRE(subjects.size() == 3);
  const auto prefix_of = [](const std::string& subject) {
    return subject.substr(0, subject.rfind('.'));
  };
  CHECK(subjects[0].rfind("_INBOX.", 0) == 0);
  CHECK(prefix_of(subjects[0]) != "_INBOX");
  CHECK(prefix_of(subjects[1]) == prefix_of(subjects[0]));
  CHECK(prefix_of(subjects[2]) == prefix_of(subjects[0]));
  CHECK(subjects[1] != subjects[0]);
}

TEST_CASE("NatsClient: a request nobody listens to fails at once with no responders") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  const auto started = Clock::now();
  try {
    (void)client.request("edge.nobody.home", "x", 5s);
    FAIL("the request succeeded");
  } catch (const nats::NatsNoRespondersError& error) {
    const std::string message = error.what();
    CHECK(message.find("\"edge.nobody.home\"") != std::string::npos);
    CHECK(message.find(server.url()) != std::string::npos);
    CHECK(message.find("no responders") != std::string::npos);
  }
  // The server's 503 status, not the 5 s timeout.
  CHECK(Clock::now() - started < 2500ms);
}

TEST_CASE("NatsClient: a slow responder makes the request time out, on time") {
  test::NatsServerProcess server;
  NatsClient responder_client(test::client_options(server, "responder"));
  NatsClient client(test::client_options(server, "requester"));
  std::mutex mutex;
  std::condition_variable released_changed;
  bool released = false;
  nats::Subscription responder =
      responder_client.subscribe("edge.slow", [&](const Message& message) {
        std::unique_lock lock(mutex);
        released_changed.wait_for(lock, test::kEventDeadline, [&] { return released; });
        responder_client.respond(message.reply_subject, "too late");
      });
  responder_client.flush(5s);

  constexpr auto kTimeout = 300ms;
  const auto started = Clock::now();
  try {
    (void)client.request("edge.slow", "x", kTimeout);
    FAIL("the request succeeded");
  } catch (const nats::NatsTimeoutError& error) {
    const std::string message = error.what();
    CHECK(message.find("\"edge.slow\"") != std::string::npos);
    CHECK(message.find("300 ms") != std::string::npos);
  }
  const auto elapsed = Clock::now() - started;
  // libnats computes its deadline on a millisecond clock: up to 1 ms early.
  CHECK(elapsed >= kTimeout - 2ms);
  CHECK(elapsed < kTimeout + 1500ms);  // a small margin, for a busy machine
  {
    const std::lock_guard lock(mutex);
    released = true;
  }
  released_changed.notify_all();
}

TEST_CASE(
    "NatsClient: a Subscription destroyed while messages arrive never calls its handler again") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server, "subscriber"));
  NatsClient publisher(test::client_options(server, "publisher"));

  std::atomic<bool> publishing{true};
  std::thread flood([&] {
    while (publishing.load()) {
      publisher.publish("edge.flood", "x");
      std::this_thread::sleep_for(20us);  // steady traffic, not a flood that starves the machine
    }
  });

  std::atomic<int> late_calls{0};
  for (int round = 0; round < 10; ++round) {
    // What the handler uses, destroyed right after the Subscription: a call
    // after that would be a use after free (and ASan would say so).
    auto counter = std::make_unique<std::atomic<int>>(0);
    std::atomic<bool> destroyed{false};
    {
      nats::Subscription subscription =
          client.subscribe("edge.flood", [&, raw = counter.get()](const Message&) {
            std::this_thread::sleep_for(50us);  // often in the handler when the reset comes
            // Still running once the Subscription is gone: the destructor
            // did not wait for the handler to return.
            if (destroyed.load()) late_calls.fetch_add(1);
            raw->fetch_add(1);
          });
      const auto deadline = Clock::now() + test::kEventDeadline;
      while (counter->load() < 20 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
      REQUIRE(counter->load() >= 20);
    }
    destroyed.store(true);
    counter.reset();
  }
  // Messages kept coming after the last reset; none may reach a dead handler.
  publisher.flush(5s);
  client.flush(5s);
  publishing.store(false);
  flood.join();
  CHECK(late_calls.load() == 0);
}

TEST_CASE("NatsClient: a Subscription may be destroyed from inside its own handler") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  std::atomic<int> calls{0};
  test::Recorder<int> done;
  auto subscription = std::make_unique<nats::Subscription>();
  *subscription = client.subscribe("edge.once", [&](const Message&) {
    calls.fetch_add(1);
    subscription.reset();  // unsubscribes from this very handler: must not wait for itself
    done.add(1);
  });
  for (int index = 0; index < 50; ++index) client.publish("edge.once", "x");
  client.flush(5s);
  REQUIRE(done.wait_for_count(1));
  client.flush(5s);
  std::this_thread::sleep_for(100ms);  // room for a wrong second call
  CHECK(calls.load() == 1);
}

TEST_CASE("NatsClient: a Subscription that outlives its client is still safe to destroy") {
  test::NatsServerProcess server;
  std::atomic<int> calls{0};
  nats::Subscription subscription;
  {
    NatsClient client(test::client_options(server));
    subscription = client.subscribe("edge.late", [&](const Message&) { calls.fetch_add(1); });
    client.publish("edge.late", "x");
    client.flush(5s);
    const auto deadline = Clock::now() + test::kEventDeadline;
    while (calls.load() == 0 && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  }
  CHECK(calls.load() == 1);
  CHECK(subscription.active());
  subscription.reset();  // the connection is closed and destroyed: no crash, no hang
  CHECK_FALSE(subscription.active());
}

TEST_CASE("NatsClient: connecting where no server listens names the URL") {
  RefusingPort nobody;
  nats::NatsClientOptions options;
  options.url = "nats://127.0.0.1:" + std::to_string(nobody.port());
  const auto started = Clock::now();
  try {
    NatsClient client(options);
    FAIL("connected to a port nobody listens on");
  } catch (const nats::NatsConnectionError& error) {
    const std::string message = error.what();
    CHECK(message.find(options.url) != std::string::npos);
    CHECK(message.find("No server available") != std::string::npos);
  }
  CHECK(Clock::now() - started < 5s);
}

TEST_CASE("NatsClient: reconnects when the server is killed and restarted on the same port") {
  test::NatsServerProcess server;
  std::atomic<int> disconnects{0};
  std::atomic<int> reconnects{0};
  test::Recorder<std::string> events;
  nats::NatsClientOptions options = test::client_options(server);
  options.on_disconnected = [&] {
    disconnects.fetch_add(1);
    events.add("disconnected");
  };
  options.on_reconnected = [&] {
    reconnects.fetch_add(1);
    events.add("reconnected");
  };
  NatsClient client(options);
  test::Recorder<std::string> received;
  nats::Subscription subscription = client.subscribe(
      "edge.after", [&](const Message& message) { received.add(std::string(message.payload)); });
  client.flush(5s);

  server.kill();
  REQUIRE(events.wait_for_count(1));
  CHECK(events.items()[0] == "disconnected");
  CHECK_FALSE(client.connected());
  // Published while disconnected: kept in the reconnect buffer.
  client.publish("edge.after", "buffered");

  server.restart();
  REQUIRE(events.wait_for_count(2));
  CHECK(events.items()[1] == "reconnected");
  CHECK(client.connected());
  CHECK(disconnects.load() == 1);
  CHECK(reconnects.load() == 1);

  // The subscription was renewed on the new server.
  client.publish("edge.after", "after the restart");
  client.flush(5s);
  REQUIRE(received.wait_for_count(2));
  CHECK(received.items() == std::vector<std::string>{"buffered", "after the restart"});
}

TEST_CASE("NatsClient: a request to a hung server times out; it answers again once resumed") {
  test::NatsServerProcess server;
  NatsClient responder_client(test::client_options(server, "responder"));
  NatsClient client(test::client_options(server, "requester"));
  nats::Subscription responder = responder_client.subscribe(
      "edge.ping",
      [&](const Message& message) { responder_client.respond(message.reply_subject, "pong"); });
  responder_client.flush(5s);
  CHECK(client.request("edge.ping", "", 5s) == "pong");

  server.pause();
  CHECK_THROWS_AS((void)client.request("edge.ping", "", 300ms), nats::NatsTimeoutError);
  server.resume();
  CHECK(client.request("edge.ping", "", 5s) == "pong");
}

}  // namespace
}  // namespace edge
