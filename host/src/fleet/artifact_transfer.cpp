#include "fleet/artifact_transfer.hpp"

#include "plugin/sha256.hpp"

#include <edge/models.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <vector>

namespace edge::fleet {
namespace {

constexpr std::size_t kReplyHeadroom = 4096;

std::string chunk_request(std::string_view sha256, std::uint64_t offset, std::uint64_t length) {
  return std::string(sha256) + " " + std::to_string(offset) + " " + std::to_string(length);
}

// 'K' + bytes, or 'E' + why not. A length beyond what one reply can carry
// is refused before anything is allocated for it.
std::string serve_chunk(const ArtifactServer::Lookup& lookup, std::string_view request,
                        std::uint64_t max_length) {
  const std::optional<ChunkRequest> parsed = parse_chunk_request(request);
  if (!parsed) return "Ebad chunk request (expected \"<sha256> <offset> <length>\")";
  const auto& [sha256, offset, length] = *parsed;
  if (length > max_length) {
    return "Echunk of " + std::to_string(length) + " bytes asked for, at most " +
           std::to_string(max_length) + " fit in a reply";
  }
  const std::optional<std::filesystem::path> file = lookup(sha256);
  if (!file) return "Eartifact " + sha256 + " is not held here";
  std::ifstream in(*file, std::ios::binary);
  if (!in) return "Ecannot read artifact " + sha256 + " from " + file->string();
  in.seekg(static_cast<std::streamoff>(offset));
  std::string reply(1 + length, '\0');
  reply[0] = 'K';
  in.read(reply.data() + 1, static_cast<std::streamsize>(length));
  reply.resize(1 + static_cast<std::size_t>(in.gcount()));
  return reply;
}

nats::Subscription serve_chunks(nats::NatsClient& client, const std::string& subject,
                                ArtifactServer::Lookup lookup) {
  return client.queue_subscribe(
      subject, "holders", [&client, lookup = std::move(lookup)](const nats::Message& message) {
        if (message.reply_subject.empty()) return;
        try {
          const auto max_length =
              static_cast<std::uint64_t>(std::max<std::int64_t>(client.max_payload() - 1, 0));
          client.respond(message.reply_subject, serve_chunk(lookup, message.payload, max_length));
        } catch (const std::exception&) {
          // The requester times out and asks again (maybe another holder).
        }
      });
}

}  // namespace

std::optional<ChunkRequest> parse_chunk_request(std::string_view text) {
  std::istringstream words{std::string(text)};
  ChunkRequest request;
  if (!(words >> request.sha256 >> request.offset >> request.length) ||
      request.sha256.size() != 64) {
    return std::nullopt;
  }
  return request;
}

ArtifactServer::ArtifactServer(nats::NatsClient& client, const Subjects& subjects, Lookup lookup)
    : subscription_(serve_chunks(client, subjects.artifact_chunks(), std::move(lookup))) {}

ArtifactServer::ArtifactServer(nats::NatsClient& client, const Subjects& subjects,
                               const std::string& sha256, std::filesystem::path file)
    : subscription_(serve_chunks(client, subjects.artifact_chunks_of(sha256),
                                 [sha256, file = std::move(file)](std::string_view asked)
                                     -> std::optional<std::filesystem::path> {
                                   if (asked == sha256) return file;
                                   return std::nullopt;
                                 })) {}

ArtifactManifest manifest_of(const SyncState& state) {
  Sha256 hash;
  hash.update(state.data);
  return {hash.hex_digest(), state.checksum, state.data.size(), state.version};
}

std::string fetch_artifact(nats::NatsClient& client, const Subjects& subjects,
                           const ArtifactManifest& manifest, const FetchOptions& options) {
  const std::string what = "artifact " + manifest.sha256;
  std::size_t chunk = options.chunk_bytes;
  if (chunk == 0) {
    const auto payload = static_cast<std::size_t>(client.max_payload());
    chunk = payload > 2 * kReplyHeadroom ? payload - kReplyHeadroom : payload / 2;
  }
  // The hosts holding this content first; the origin once none of them
  // answers (there are none yet, the last one left mid-transfer, or one hangs)
  // or one refuses.
  const std::string holders = subjects.artifact_chunks_of(manifest.sha256);
  std::string subject = holders;
  std::string bytes;
  bytes.reserve(manifest.size);
  while (bytes.size() < manifest.size) {
    const std::uint64_t offset = bytes.size();
    const std::uint64_t length = std::min<std::uint64_t>(chunk, manifest.size - offset);
    std::string reply;
    int timeouts = 0;
    while (true) {
      try {
        reply = client.request(subject, chunk_request(manifest.sha256, offset, length),
                               options.chunk_timeout);
        break;
      } catch (const nats::NatsNoRespondersError&) {
        if (subject == subjects.artifact_chunks()) {
          std::string message = what;
          message.append(": no host holds it (nobody answers ")
              .append(holders)
              .append(" nor ")
              .append(subjects.artifact_chunks())
              .append(")");
          throw SyncError(message);
        }
        subject = subjects.artifact_chunks();
        continue;
      } catch (const nats::NatsTimeoutError&) {
        // A holder that does not answer may hang (a paused device) and its
        // queue group may keep picking it: the origin serves from here on.
        if (subject == holders) {
          subject = subjects.artifact_chunks();
          continue;
        }
        if (++timeouts >= options.chunk_attempts) {
          throw SyncError(what + ": no answer for the chunk at byte " + std::to_string(offset) +
                          " after " + std::to_string(timeouts) + " attempts");
        }
      }
    }
    if (reply.empty() || (reply[0] != 'K' && reply[0] != 'E')) {
      throw SyncError(what + ": a reply that is not a chunk");
    }
    if (reply[0] == 'E' && subject == holders) {
      subject = subjects.artifact_chunks();  // that holder lost its copy: ask the origin
      continue;
    }
    if (reply[0] == 'E') throw SyncError(what + ": " + reply.substr(1));
    if (reply.size() == 1) {
      throw VerificationError(what + ": the holder's copy ends at byte " + std::to_string(offset) +
                              ", the manifest says " + std::to_string(manifest.size));
    }
    bytes.append(reply, 1, std::string::npos);
  }
  if (bytes.size() != manifest.size) {
    throw VerificationError(what + ": " + std::to_string(bytes.size()) +
                            " bytes arrived, the manifest says " + std::to_string(manifest.size));
  }
  SyncState state;
  state.version = manifest.version;
  state.checksum = manifest.md5;
  state.data = std::move(bytes);
  if (!state.verify())
    throw VerificationError(what + ": MD5 mismatch (SyncState::verify): corrupted in transit");
  const std::string sha256 = manifest_of(state).sha256;
  if (sha256 != manifest.sha256) {
    throw VerificationError(what + ": SHA-256 mismatch (got " + sha256 + ")");
  }
  return std::move(state.data);
}

}  // namespace edge::fleet
