// Plugin bytes over NATS (issue 6's plugin sync): content-addressed by
// SHA-256, shipped in chunks that fit the server's max_payload, checked with
// the spec's SyncState (MD5) and with SHA-256 before anyone may write them
// where a loader looks.
//
// Hosts that hold an artifact answer chunk requests in a queue group (any
// holder serves any chunk): on edge.<cluster>.blob.<sha256> the hosts that
// hold exactly that content (node hosts that fetched it), and on
// edge.<cluster>.blob.get an origin that holds every artifact it ships (the
// controller). One queue group for hosts holding different content would
// not work: the member picked for a request may not hold it, and its refusal
// would end the fetch. A fetch asks the artifact's own subject first and the
// origin's when nobody answers there.
// A request is "<sha256> <offset> <length>"; a reply is 'K' and the bytes,
// or 'E' and why not (unknown artifact, unreadable file, bad request).
#pragma once

#include "fleet/subjects.hpp"
#include "nats/nats_client.hpp"

#include <edge/errors.hpp>
#include <edge/models.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace edge::fleet {

// What a node needs to fetch and check an artifact: its hashes and size and
// the SyncState version it belongs to.
struct ArtifactManifest {
  std::string sha256;  // lowercase hex
  std::string md5;     // lowercase hex (SyncState::checksum)
  std::uint64_t size = 0;
  std::int64_t version = 0;
};

// A fetch that could not produce verified bytes: names the artifact and why
// (no holder, a chunk that never came, a checksum that does not match).
class SyncError : public Error {
 public:
  using Error::Error;
};

// The bytes arrived but are not the artifact: a size, MD5 (SyncState::verify)
// or SHA-256 that does not match the manifest. Unlike a holder that could
// not be reached, this says something about where the bytes come from: the
// node reports its copy Failed and the controller keeps it out of placement
// for that content.
class VerificationError : public SyncError {
 public:
  using SyncError::SyncError;
};

class ArtifactServer {
 public:
  // The file holding the artifact with this SHA-256, if this host has it.
  using Lookup = std::function<std::optional<std::filesystem::path>(std::string_view sha256)>;

  // Serves every artifact `lookup` finds, on edge.<cluster>.blob.get (an
  // origin), until destroyed; `client` must outlive it. `lookup` runs on the
  // subscription's delivery thread.
  ArtifactServer(nats::NatsClient& client, const Subjects& subjects, Lookup lookup);
  // Serves the one artifact in `file` on its own subject
  // (Subjects::artifact_chunks_of), beside the other hosts that hold it.
  ArtifactServer(nats::NatsClient& client, const Subjects& subjects, const std::string& sha256,
                 std::filesystem::path file);

 private:
  nats::Subscription subscription_;
};

struct FetchOptions {
  // Bytes per request; 0: the server's max_payload less 4 KiB.
  std::size_t chunk_bytes = 0;
  std::chrono::milliseconds chunk_timeout{2000};
  // A chunk that times out is asked for again (from its offset: what arrived
  // is kept) this many times before the fetch fails.
  int chunk_attempts = 3;
};

// Fetches the artifact and returns its bytes once both MD5 (SyncState::verify)
// and SHA-256 match the manifest. Throws VerificationError when they do not,
// SyncError when no holder answers. Content is
// addressed by SHA-256: a node that already holds it (its PluginStore) does
// not call this, so identical content is never sent twice.
// A chunk request, "<sha256> <offset> <length>", as holders read it;
// nullopt when the text is not one.
struct ChunkRequest {
  std::string sha256;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};
std::optional<ChunkRequest> parse_chunk_request(std::string_view text);

std::string fetch_artifact(nats::NatsClient& client, const Subjects& subjects,
                           const ArtifactManifest& manifest, const FetchOptions& options = {});

// The manifest of a payload this host ships: its SyncState's version and MD5
// as they are, and the SHA-256 of its data.
ArtifactManifest manifest_of(const SyncState& state);

}  // namespace edge::fleet
