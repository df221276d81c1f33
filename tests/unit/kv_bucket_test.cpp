#include "nats/kv_bucket.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <memory>
#include <string>
#include <vector>

#include "nats_server.hpp"
#include "nats_test_support.hpp"

namespace edge {
namespace {

using nats::KeyValueBucket;
using nats::KvBucketOptions;
using nats::KvConflictError;
using nats::NatsClient;

KvBucketOptions bucket_options(const std::string& name) {
  KvBucketOptions options;
  options.name = name;
  options.history = 5;
  return options;
}

struct Change {
  std::string key;
  std::string value;
  std::uint64_t revision = 0;
  bool deleted = false;
  bool operator==(const Change&) const = default;
};

// Watches `keys`, recording every change.
nats::KvWatcher watch_into(KeyValueBucket& bucket, const std::string& keys,
                           test::Recorder<Change>& changes) {
  return bucket.watch(keys, [&changes](const nats::KvChange& change) {
    changes.add(
        {std::string(change.key), std::string(change.value), change.revision, change.deleted});
  });
}

TEST_CASE("KeyValueBucket: put, get, revisions that grow, and a missing key") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  CHECK(bucket.name() == "desired");

  CHECK_FALSE(bucket.get("nodes.a").has_value());
  const std::uint64_t first = bucket.put("nodes.a", "one");
  const std::uint64_t second = bucket.put("nodes.a", std::string("t\0o", 3));
  CHECK(first >= 1);
  CHECK(second > first);
  const std::optional<nats::KvEntry> entry = bucket.get("nodes.a");
  REQUIRE(entry.has_value());
  CHECK(entry->value == std::string("t\0o", 3));
  CHECK(entry->revision == second);
}

TEST_CASE("KeyValueBucket: create of an existing key is a conflict naming the key") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));

  const std::uint64_t revision = bucket.create("functions.echo", "v1");
  try {
    (void)bucket.create("functions.echo", "v2");
    FAIL("the second create succeeded");
  } catch (const KvConflictError& error) {
    CHECK(error.key() == "functions.echo");
    CHECK(error.expected_revision() == 0);
    const std::string message = error.what();
    CHECK(message.find("\"functions.echo\"") != std::string::npos);
    CHECK(message.find("\"desired\"") != std::string::npos);
    CHECK(message.find("already exists") != std::string::npos);
  }
  const std::optional<nats::KvEntry> entry = bucket.get("functions.echo");
  REQUIRE(entry.has_value());
  CHECK(entry->value == "v1");
  CHECK(entry->revision == revision);

  // A deleted key can be created again.
  bucket.erase("functions.echo");
  CHECK(bucket.create("functions.echo", "v3") > revision);
}

TEST_CASE("KeyValueBucket: of two updates on the same revision exactly one wins") {
  test::NatsServerProcess server;
  NatsClient first_host(test::client_options(server, "first"));
  NatsClient second_host(test::client_options(server, "second"));
  KeyValueBucket first(first_host, bucket_options("desired"));
  KeyValueBucket second(second_host, bucket_options("desired"));
  const std::uint64_t read = first.put("placement.echo", "node-0");

  std::barrier start(2);
  std::atomic<int> wins{0};
  std::vector<std::string> conflicts(2);
  const auto write = [&](KeyValueBucket& bucket, int index) {
    start.arrive_and_wait();
    try {
      bucket.update("placement.echo", "node-" + std::to_string(index + 1), read);
      wins.fetch_add(1);
    } catch (const KvConflictError& error) {
      CHECK(error.key() == "placement.echo");
      CHECK(error.expected_revision() == read);
      conflicts[static_cast<std::size_t>(index)] = error.what();
    }
  };
  std::thread one(write, std::ref(first), 0);
  std::thread two(write, std::ref(second), 1);
  one.join();
  two.join();

  CHECK(wins.load() == 1);
  const std::string& conflict = conflicts[0].empty() ? conflicts[1] : conflicts[0];
  REQUIRE_FALSE(conflict.empty());
  CHECK(conflict.find("\"placement.echo\"") != std::string::npos);
  CHECK(conflict.find("revision " + std::to_string(read)) != std::string::npos);
  const std::optional<nats::KvEntry> entry = first.get("placement.echo");
  REQUIRE(entry.has_value());
  CHECK(entry->revision > read);
  // The winner's value, whichever it was.
  CHECK(entry->value == (conflicts[0].empty() ? "node-1" : "node-2"));

  CHECK_THROWS_AS(first.update("placement.echo", "stale", read), KvConflictError);
  CHECK_THROWS_AS(first.update("never.written", "x", 1), KvConflictError);
  CHECK_THROWS_AS(first.update("placement.echo", "x", 0), nats::NatsError);
}

TEST_CASE("KeyValueBucket: compare-and-swap increments from 4 threads end with the exact total") {
  test::NatsServerProcess server;
  constexpr int kThreads = 4;
  constexpr int kIncrements = 50;
  {
    NatsClient client(test::client_options(server));
    KeyValueBucket bucket(client, bucket_options("counters"));
    bucket.create("total", "0");
  }

  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      NatsClient client(test::client_options(server, "host-" + std::to_string(thread)));
      KeyValueBucket bucket(client, bucket_options("counters"));
      for (int done = 0; done < kIncrements;) {
        const std::optional<nats::KvEntry> entry = bucket.get("total");
        REQUIRE(entry.has_value());
        try {
          bucket.update("total", std::to_string(std::stoi(entry->value) + 1), entry->revision);
          ++done;
        } catch (const KvConflictError&) {
          conflicts.fetch_add(1);  // someone else incremented first: read again
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();

  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("counters"));
  const std::optional<nats::KvEntry> entry = bucket.get("total");
  REQUIRE(entry.has_value());
  CHECK(entry->value == std::to_string(kThreads * kIncrements));
  MESSAGE("conflicts retried: " << conflicts.load());
}

TEST_CASE("KeyValueBucket: erase and keys") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  CHECK(bucket.keys().empty());

  bucket.put("nodes.a", "1");
  bucket.put("nodes.b", "2");
  bucket.put("nodes.c", "3");
  bucket.erase("nodes.b");
  CHECK_FALSE(bucket.get("nodes.b").has_value());
  std::vector<std::string> keys = bucket.keys();
  std::sort(keys.begin(), keys.end());
  CHECK(keys == std::vector<std::string>{"nodes.a", "nodes.c"});

  bucket.erase("nodes.a");
  bucket.erase("nodes.c");
  CHECK(bucket.keys().empty());
  CHECK_THROWS_WITH_AS(bucket.put("bad key", "x"), doctest::Contains("\"bad key\""),
                       nats::NatsError);
}

TEST_CASE(
    "KeyValueBucket: a watcher replays the current state, says so, then sees puts and deletes") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  const std::uint64_t a = bucket.put("nodes.a", "1");
  bucket.put("nodes.b", "2");
  bucket.erase("nodes.b");
  bucket.put("other.x", "not watched");

  test::Recorder<Change> changes;
  nats::KvWatcher watcher = watch_into(bucket, "nodes.>", changes);
  REQUIRE(watcher.wait_until_replayed(test::kEventDeadline));
  CHECK(watcher.replayed());
  // The latest entry of each key, the delete included; "other.x" left out.
  std::vector<Change> replay = changes.items();
  REQUIRE(replay.size() == 2);
  CHECK(replay[0] == Change{"nodes.a", "1", a, false});
  CHECK(replay[1].key == "nodes.b");
  CHECK(replay[1].deleted);
  CHECK(replay[1].value.empty());

  const std::uint64_t c = bucket.put("nodes.c", "3");
  bucket.erase("nodes.a");
  bucket.put("other.y", "not watched");
  REQUIRE(changes.wait_for_count(4));
  const std::vector<Change> live = changes.items();
  CHECK(live[2] == Change{"nodes.c", "3", c, false});
  CHECK(live[3].key == "nodes.a");
  CHECK(live[3].deleted);
  CHECK(live[3].revision > c);
  CHECK(watcher.failure().empty());
}

TEST_CASE("KeyValueBucket: a watcher on keys that do not exist yet is caught up at once") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  test::Recorder<Change> changes;
  nats::KvWatcher watcher = watch_into(bucket, "heartbeats.*", changes);
  REQUIRE(watcher.wait_until_replayed(test::kEventDeadline));
  CHECK(changes.size() == 0);
  bucket.put("heartbeats.n1", "alive");
  REQUIRE(changes.wait_for_count(1));
  CHECK(changes.items()[0].value == "alive");
}

TEST_CASE(
    "KeyValueBucket: values written before the server is killed are there after its restart") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  const std::uint64_t revision = bucket.put("functions.echo", "v7");
  bucket.put("functions.gone", "x");
  bucket.erase("functions.gone");

  server.kill();
  server.restart();

  // The same client reconnects, and the same bucket handle works again.
  REQUIRE(test::wait_until_connected(client));
  const std::optional<nats::KvEntry> entry = bucket.get("functions.echo");
  REQUIRE(entry.has_value());
  CHECK(entry->value == "v7");
  CHECK(entry->revision == revision);
  CHECK_FALSE(bucket.get("functions.gone").has_value());
  CHECK(bucket.update("functions.echo", "v8", revision) > revision);
}

TEST_CASE("KeyValueBucket: a watcher keeps reporting, in order, after the server restarts") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  test::Recorder<Change> changes;
  nats::KvWatcher watcher = watch_into(bucket, ">", changes);
  REQUIRE(watcher.wait_until_replayed(test::kEventDeadline));
  bucket.put("nodes.a", "1");
  REQUIRE(changes.wait_for_count(1));

  server.kill();
  server.restart();
  REQUIRE(test::wait_until_connected(client));
  bucket.put("nodes.b", "2");
  REQUIRE(changes.wait_for_count(2));
  const std::vector<Change> seen = changes.items();
  CHECK(seen.back().key == "nodes.b");
  // Neither lost nor repeated: revisions strictly increase.
  for (std::size_t index = 1; index < seen.size(); ++index) {
    CHECK(seen[index].revision > seen[index - 1].revision);
  }
  CHECK(watcher.failure().empty());
}

TEST_CASE("KeyValueBucket: opening an existing bucket with another configuration is refused") {
  test::NatsServerProcess server;
  NatsClient client(test::client_options(server));
  KeyValueBucket bucket(client, bucket_options("desired"));
  KeyValueBucket same(client, bucket_options("desired"));  // the same configuration binds
  same.put("k", "v");
  CHECK(bucket.get("k").has_value());

  KvBucketOptions other = bucket_options("desired");
  other.history = 2;
  CHECK_THROWS_WITH_AS(KeyValueBucket(client, other), doctest::Contains("\"desired\""),
                       nats::NatsError);

  KvBucketOptions memory = bucket_options("scratch");
  memory.storage = nats::KvStorage::Memory;
  KeyValueBucket in_memory(client, memory);
  CHECK(in_memory.create("k", "v") >= 1);
}

}  // namespace
}  // namespace edge
