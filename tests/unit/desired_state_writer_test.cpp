#include "fleet/desired_state_writer.hpp"

#include <doctest/doctest.h>

#include <string>

#include "nats/kv_bucket.hpp"
#include "nats_server.hpp"
#include "nats_test_support.hpp"
#include "quiet_logger.hpp"

namespace edge {
namespace {

using fleet::DesiredStateWriter;

nats::KvBucketOptions bucket_options() {
  nats::KvBucketOptions options;
  options.name = "edge_test_desired";
  options.timeout = std::chrono::milliseconds(1000);
  return options;
}

std::function<std::string()> value(std::string text) {
  return [text = std::move(text)] { return text; };
}

TEST_CASE("DesiredStateWriter: puts, replaces, erases, and skips a value already there") {
  test::NatsServerProcess server;
  nats::NatsClient client(test::client_options(server));
  nats::KeyValueBucket bucket(client, bucket_options());
  test::QuietLogger quiet;
  DesiredStateWriter writer(bucket, quiet.logger);

  writer.put("gw-1.echo", value("v1"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  const std::optional<nats::KvEntry> first = bucket.get("gw-1.echo");
  REQUIRE(first);
  CHECK(first->value == "v1");

  writer.put("gw-1.echo", value("v1"));  // the same value: no new revision
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  CHECK(bucket.get("gw-1.echo")->revision == first->revision);

  writer.put("gw-1.echo", value("v2"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  CHECK(bucket.get("gw-1.echo")->value == "v2");
  CHECK(bucket.get("gw-1.echo")->revision > first->revision);

  writer.erase("gw-1.echo");
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  CHECK_FALSE(bucket.get("gw-1.echo"));
  CHECK(writer.conflicts() == 0);
}

TEST_CASE("DesiredStateWriter: another writer's change is a conflict, read before writing over") {
  test::NatsServerProcess server;
  nats::NatsClient client(test::client_options(server));
  nats::KeyValueBucket bucket(client, bucket_options());
  test::QuietLogger quiet;
  DesiredStateWriter writer(bucket, quiet.logger);

  writer.put("gw-1.echo", value("controller-a"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  // Someone else (a second controller) writes the key behind this writer's back.
  bucket.put("gw-1.echo", "controller-b");

  writer.put("gw-1.echo", value("controller-a, later"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  CHECK(writer.conflicts() == 1);  // refused by compare-and-swap first
  CHECK(bucket.get("gw-1.echo")->value == "controller-a, later");  // then written, after the read
}

TEST_CASE("DesiredStateWriter: a key already in the bucket at start is created only by CAS") {
  test::NatsServerProcess server;
  nats::NatsClient client(test::client_options(server));
  nats::KeyValueBucket bucket(client, bucket_options());
  bucket.put("gw-1.echo", "written before this writer started");
  test::QuietLogger quiet;
  DesiredStateWriter writer(bucket, quiet.logger);  // not seeded: it believes the key is new

  writer.put("gw-1.echo", value("mine"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  CHECK(writer.conflicts() == 1);  // create() refused: the key existed
  CHECK(bucket.get("gw-1.echo")->value == "mine");
}

TEST_CASE("DesiredStateWriter: writes made while NATS is down land after it is back") {
  test::NatsServerProcess server;
  nats::NatsClient client(test::client_options(server));
  nats::KeyValueBucket bucket(client, bucket_options());
  test::QuietLogger quiet;
  DesiredStateWriter writer(bucket, quiet.logger, std::chrono::milliseconds(50));

  writer.put("gw-1.echo", value("before"));
  REQUIRE(writer.wait_until_written(test::kEventDeadline));
  server.kill();
  writer.put("gw-1.echo", value("during the outage"));
  writer.put("gw-2.echo", value("new during the outage"));
  CHECK_FALSE(writer.wait_until_written(std::chrono::milliseconds(300)));
  CHECK(writer.queued() >= 1);
  server.restart();
  REQUIRE(test::wait_until_connected(client));
  REQUIRE(writer.wait_until_written(std::chrono::seconds(20)));
  CHECK(bucket.get("gw-1.echo")->value == "during the outage");
  CHECK(bucket.get("gw-2.echo")->value == "new during the outage");
}

}  // namespace
}  // namespace edge
