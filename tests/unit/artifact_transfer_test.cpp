// Plugin artifacts over a real nats-server: fetched in chunks and verified
// (SyncState's MD5 and SHA-256); bytes flipped in transit, a holder that
// vanishes or never had it, and a chunk lost on the way each end in a
// SyncError naming the artifact, or in a resumed transfer.
#include "fleet/artifact_transfer.hpp"

#include "nats/nats_client.hpp"
#include "nats_server.hpp"
#include "nats_test_support.hpp"
#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

using edge::fleet::ArtifactManifest;
using edge::fleet::ArtifactServer;
using edge::fleet::FetchOptions;
using edge::fleet::Subjects;
using edge::fleet::SyncError;

namespace {

// 300 KiB of bytes that differ from chunk to chunk.
std::string artifact_bytes() {
  std::string bytes(300UL * 1024, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) % 251);
  return bytes;
}

std::string sync_error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const SyncError& error) {
    return error.what();
  }
  FAIL("expected a SyncError");
  return {};
}

// Answers chunk requests like a holder, but through `tamper` first, and
// counts the offsets asked for.
struct TamperingHolder {
  TamperingHolder(edge::nats::NatsClient& client, const Subjects& subjects,
                  const std::string& bytes,
                  const std::function<bool(std::string&, std::uint64_t)>& tamper)
      : subscription(client.queue_subscribe(subjects.artifact_chunks(), "holders",
                                            [&, bytes, tamper](const edge::nats::Message& m) {
                                              const auto [sha256, offset, length] =
                                                  *edge::fleet::parse_chunk_request(m.payload);
                                              {
                                                const std::lock_guard lock(mutex);
                                                offsets.push_back(offset);
                                              }
                                              std::string reply =
                                                  "K" + bytes.substr(offset, length);
                                              if (tamper(reply, offset))
                                                client.respond(m.reply_subject, reply);
                                            })) {}
  std::vector<std::uint64_t> asked() {
    const std::lock_guard lock(mutex);
    return offsets;
  }
  std::mutex mutex;
  std::vector<std::uint64_t> offsets;
  edge::nats::Subscription subscription;
};

}  // namespace

TEST_CASE("artifacts: fetched in chunks from a holder, verified, identical") {
  edge::test::ScratchDir dir("edge-artifact");
  const std::string bytes = artifact_bytes();
  const std::filesystem::path file = dir / "plugin.so";
  std::ofstream(file, std::ios::binary) << bytes;
  const ArtifactManifest manifest = edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 7));

  edge::test::NatsServerProcess server;
  edge::nats::NatsClient holder_client(edge::test::client_options(server, "holder"));
  edge::nats::NatsClient node_client(edge::test::client_options(server, "node"));
  const Subjects subjects("plant");
  const ArtifactServer holder(holder_client, subjects, [&](std::string_view sha256) {
    return sha256 == manifest.sha256 ? std::optional(file) : std::nullopt;
  });
  holder_client.flush(edge::test::kEventDeadline);

  FetchOptions options;
  options.chunk_bytes = 64UL * 1024;  // five chunks, the last one short
  CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest, options) == bytes);
  // The default chunk is the server's max_payload less some room: one here.
  CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest) == bytes);

  ArtifactManifest unknown = manifest;
  unknown.sha256 = std::string(64, 'f');
  CHECK(sync_error_of([&] { edge::fleet::fetch_artifact(node_client, subjects, unknown); }) ==
        "artifact " + unknown.sha256 + ": artifact " + unknown.sha256 + " is not held here");
  // Chunks larger than a reply can carry are refused by the holder (before
  // it allocates anything for them).
  ArtifactManifest huge = manifest;
  huge.size = 3UL << 20;
  options.chunk_bytes = 2UL << 20;
  CHECK(sync_error_of([&] { edge::fleet::fetch_artifact(node_client, subjects, huge, options); }) ==
        "artifact " + manifest.sha256 + ": chunk of 2097152 bytes asked for, at most " +
            std::to_string(node_client.max_payload() - 1) + " fit in a reply");
  ArtifactManifest longer = manifest;
  longer.size += 10;
  CHECK(sync_error_of([&] { edge::fleet::fetch_artifact(node_client, subjects, longer); }) ==
        "artifact " + manifest.sha256 +
            ": the holder's copy ends at byte 307200, the manifest "
            "says 307210");
}

TEST_CASE("artifacts: bytes flipped in transit are refused, never returned") {
  const std::string bytes = artifact_bytes();
  const ArtifactManifest manifest = edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 1));
  edge::test::NatsServerProcess server;
  edge::nats::NatsClient holder_client(edge::test::client_options(server, "holder"));
  edge::nats::NatsClient node_client(edge::test::client_options(server, "node"));
  const Subjects subjects("plant");
  TamperingHolder holder(holder_client, subjects, bytes, [](std::string& reply, std::uint64_t) {
    reply[1000] = static_cast<char>(reply[1000] ^ 0x20);  // one bit, one byte
    return true;
  });
  holder_client.flush(edge::test::kEventDeadline);
  FetchOptions options;
  options.chunk_bytes = 100UL * 1024;
  CHECK(sync_error_of(
            [&] { edge::fleet::fetch_artifact(node_client, subjects, manifest, options); }) ==
        "artifact " + manifest.sha256 + ": MD5 mismatch (SyncState::verify): corrupted in transit");

  // A manifest whose MD5 was made to match the flipped bytes: SHA-256 still says no.
  std::string flipped = bytes;
  for (std::size_t offset = 0; offset < flipped.size(); offset += 100UL * 1024) {
    flipped[offset + 999] = static_cast<char>(flipped[offset + 999] ^ 0x20);
  }
  ArtifactManifest forged = manifest;
  forged.md5 = edge::SyncState::from_data(flipped, 1).checksum;
  CHECK(sync_error_of([&] {
          edge::fleet::fetch_artifact(node_client, subjects, forged, options);
        }).starts_with("artifact " + manifest.sha256 + ": SHA-256 mismatch (got "));
}

TEST_CASE(
    "artifacts: a lost chunk is asked for again from its offset; no holder is a clear error") {
  const std::string bytes = artifact_bytes();
  const ArtifactManifest manifest = edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 1));
  edge::test::NatsServerProcess server;
  edge::nats::NatsClient node_client(edge::test::client_options(server, "node"));
  const Subjects subjects("plant");
  CHECK(sync_error_of([&] { edge::fleet::fetch_artifact(node_client, subjects, manifest); }) ==
        "artifact " + manifest.sha256 + ": no host holds it (nobody answers edge.plant.blob." +
            manifest.sha256 + " nor edge.plant.blob.get)");

  edge::nats::NatsClient holder_client(edge::test::client_options(server, "holder"));
  std::atomic<bool> dropped{false};
  TamperingHolder holder(holder_client, subjects, bytes, [&](std::string&, std::uint64_t offset) {
    // The chunk at 200 KiB is lost once (a broken transfer).
    return offset != 200UL * 1024 || dropped.exchange(true);
  });
  holder_client.flush(edge::test::kEventDeadline);
  FetchOptions options;
  options.chunk_bytes = 100UL * 1024;
  options.chunk_timeout = std::chrono::milliseconds(1000);
  CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest, options) == bytes);
  // Resumed, not restarted: offsets never went back, and the lost chunk was
  // asked for again. (Not an exact list: on a busy machine another chunk may
  // be late too and be asked for twice.)
  const std::vector<std::uint64_t> asked = holder.asked();
  CHECK(std::is_sorted(asked.begin(), asked.end()));
  CHECK(std::count(asked.begin(), asked.end(), 204800) >= 2);
  CHECK(asked.front() == 0);
  CHECK(asked.back() == 204800);

  // A holder that never answers: the fetch gives up after its attempts.
  options.chunk_attempts = 2;
  options.chunk_timeout = std::chrono::milliseconds(200);
  TamperingHolder silent(holder_client, subjects, bytes,
                         [](std::string&, std::uint64_t) { return false; });
  holder.subscription.reset();
  holder_client.flush(edge::test::kEventDeadline);
  CHECK(sync_error_of(
            [&] { edge::fleet::fetch_artifact(node_client, subjects, manifest, options); }) ==
        "artifact " + manifest.sha256 + ": no answer for the chunk at byte 0 after 2 attempts");
}

TEST_CASE("artifacts: hosts holding different content serve each on its own subject") {
  edge::test::ScratchDir dir("edge-artifact");
  const std::string bytes = artifact_bytes();
  const std::string other = bytes.substr(1000);
  std::ofstream(dir / "one.so", std::ios::binary) << bytes;
  std::ofstream(dir / "other.so", std::ios::binary) << other;
  const ArtifactManifest manifest = edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 1));
  const ArtifactManifest other_manifest =
      edge::fleet::manifest_of(edge::SyncState::from_data(other, 1));

  edge::test::NatsServerProcess server;
  edge::nats::NatsClient holder_client(edge::test::client_options(server, "holders"));
  edge::nats::NatsClient node_client(edge::test::client_options(server, "node"));
  const Subjects subjects("plant");
  CHECK(subjects.artifact_chunks_of(manifest.sha256) == "edge.plant.blob." + manifest.sha256);
  // An origin that holds neither (it would refuse both if it were asked),
  // and one host per content.
  const ArtifactServer origin(holder_client, subjects,
                              [](std::string_view) { return std::nullopt; });
  const ArtifactServer one(holder_client, subjects, manifest.sha256, dir / "one.so");
  const ArtifactServer two(holder_client, subjects, other_manifest.sha256, dir / "other.so");
  holder_client.flush(edge::test::kEventDeadline);
  FetchOptions options;
  options.chunk_bytes = 64UL * 1024;
  for (int round = 0; round < 3; ++round) {
    CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest, options) == bytes);
    CHECK(edge::fleet::fetch_artifact(node_client, subjects, other_manifest, options) == other);
  }
}

TEST_CASE("artifacts: a holder that hangs or lost its copy hands over to the origin") {
  edge::test::ScratchDir dir("edge-artifact");
  const std::string bytes = artifact_bytes();
  std::ofstream(dir / "one.so", std::ios::binary) << bytes;
  const ArtifactManifest manifest = edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 1));

  edge::test::NatsServerProcess server;
  edge::nats::NatsClient origin_client(edge::test::client_options(server, "origin"));
  edge::nats::NatsClient holder_client(edge::test::client_options(server, "holder"));
  edge::nats::NatsClient node_client(edge::test::client_options(server, "node"));
  const Subjects subjects("plant");
  const ArtifactServer origin(origin_client, subjects,
                              [&](std::string_view) { return dir / "one.so"; });
  FetchOptions options;
  options.chunk_bytes = 64UL * 1024;
  options.chunk_timeout = std::chrono::milliseconds(300);
  {
    // A holder of this content that never answers (a paused device).
    const edge::nats::Subscription hung = holder_client.queue_subscribe(
        subjects.artifact_chunks_of(manifest.sha256), "holders", [](const edge::nats::Message&) {});
    holder_client.flush(edge::test::kEventDeadline);
    CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest, options) == bytes);
  }
  {
    // A holder whose file went away: it refuses, and the origin serves.
    const ArtifactServer lost(holder_client, subjects, manifest.sha256, dir / "gone.so");
    holder_client.flush(edge::test::kEventDeadline);
    CHECK(edge::fleet::fetch_artifact(node_client, subjects, manifest, options) == bytes);
  }
}
