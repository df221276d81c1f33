// Subjects and keys of the cluster protocol, checked against a real
// nats-server: ids with dots still make one token, so wildcards match the
// nodes they mean and no other.
#include "fleet/subjects.hpp"

#include "nats/kv_bucket.hpp"
#include "nats/kv_watcher.hpp"
#include "nats/nats_client.hpp"
#include "nats_server.hpp"
#include "nats_test_support.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using edge::fleet::Subjects;

TEST_CASE("subjects: ids map to one token and back; bad names and tokens are refused") {
  CHECK(edge::fleet::id_token("gw-7.hall_2") == "gw-7=hall_2");
  CHECK(edge::fleet::id_of_token("gw-7=hall_2") == "gw-7.hall_2");
  CHECK_FALSE(edge::fleet::id_of_token("a*b").has_value());
  CHECK_FALSE(edge::fleet::id_of_token("=").has_value());  // would be "."
  CHECK_FALSE(edge::fleet::id_of_token("").has_value());

  const Subjects subjects("factory-1");
  CHECK(subjects.heartbeat("gw.7") == "edge.factory-1.hb.gw=7");
  CHECK(subjects.node_of_heartbeat("edge.factory-1.hb.gw=7") == "gw.7");
  CHECK_FALSE(subjects.node_of_heartbeat("edge.factory-2.hb.gw=7").has_value());
  CHECK_FALSE(subjects.node_of_heartbeat("edge.factory-1.call.gw=7").has_value());
  CHECK_FALSE(subjects.node_of_heartbeat("edge.factory-1.hb.gw.7").has_value());  // two tokens
  CHECK(subjects.invoke("n1") == "edge.factory-1.call.n1");
  CHECK(subjects.desired_bucket() == "edge_factory-1_desired");
  CHECK(subjects.desired_key("gw.7", "fn.a") == "gw=7.fn=a");
  using Names = std::pair<std::string, std::string>;
  CHECK(subjects.node_and_function_of("gw=7.fn=a") == Names{"gw.7", "fn.a"});
  CHECK_FALSE(subjects.node_and_function_of("gw=7").has_value());    // one token
  CHECK_FALSE(subjects.node_and_function_of("gw.a.b").has_value());  // three
  CHECK_FALSE(subjects.node_and_function_of("gw.a b").has_value());  // not an id

  for (const char* bad : {"", "a.b", "a b", "a*", "x>"}) {
    CHECK_THROWS_WITH_AS(
        Subjects{bad},
        ("invalid cluster name \"" + std::string(bad) + "\": expected 1-64 of [A-Za-z0-9_-]")
            .c_str(),
        std::invalid_argument);
  }
  CHECK_THROWS_AS(Subjects{std::string(65, 'c')}, std::invalid_argument);
}

TEST_CASE("subjects: through a real server, a dotted node id is one node") {
  edge::test::NatsServerProcess server;
  edge::nats::NatsClient client(edge::test::client_options(server));
  const Subjects subjects("plant");

  // Heartbeats: "hb.*" takes the dotted id, and the id comes back whole.
  edge::test::Recorder<std::string> heartbeats;
  const edge::nats::Subscription every =
      client.subscribe(subjects.every_heartbeat(), [&](const edge::nats::Message& message) {
        heartbeats.add(subjects.node_of_heartbeat(message.subject).value_or("?"));
      });
  client.flush(edge::test::kEventDeadline);
  client.publish(subjects.heartbeat("gw.7"), "{}");
  client.publish(subjects.heartbeat("gw"), "{}");
  REQUIRE(heartbeats.wait_for_count(2));
  CHECK(heartbeats.items() == std::vector<std::string>{"gw.7", "gw"});

  // Desired state: node "gw" watches its keys and never sees "gw.7"'s.
  edge::nats::KvBucketOptions options;
  options.name = subjects.desired_bucket();
  edge::nats::KeyValueBucket bucket(client, options);
  edge::test::Recorder<std::string> keys;
  const edge::nats::KvWatcher watcher =
      bucket.watch(subjects.desired_keys_of("gw"),
                   [&](const edge::nats::KvChange& change) { keys.add(std::string(change.key)); });
  REQUIRE(watcher.wait_until_replayed(edge::test::kEventDeadline));
  bucket.put(subjects.desired_key("gw.7", "echo"), "{}");
  bucket.put(subjects.desired_key("gw", "fn.a"), "{}");
  REQUIRE(keys.wait_for_count(1));
  bucket.put(subjects.desired_key("gw", "echo"), "{}");
  REQUIRE(keys.wait_for_count(2));
  CHECK(keys.items() == std::vector<std::string>{"gw.fn=a", "gw.echo"});
}
