// The sandbox's framed protocol (host/src/sandbox/frame.hpp) on bytes from a
// peer that runs plugin code: FrameDecoder cuts a stream fed in fuzzed chunk
// sizes, every frame's payload goes to the decoder of its type, and the whole
// input is also tried as each payload type. ProtocolError is the only
// expected failure; anything else escaping, or a decoded value that does not
// survive encode -> decode unchanged, aborts.
#include "sandbox/frame.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

using namespace edge::sandbox;

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_frame: %s\n", what);
  std::abort();
}

bool operator_equal(const SpawnRequest& a, const SpawnRequest& b) {
  return a.function_id == b.function_id && a.plugin_path == b.plugin_path &&
         a.environment == b.environment && a.init_budget_ns == b.init_budget_ns &&
         a.memory_limit_bytes == b.memory_limit_bytes && a.memory_cgroup == b.memory_cgroup &&
         a.memory_cgroup_version == b.memory_cgroup_version &&
         a.address_space_limit == b.address_space_limit && a.pids_cgroup == b.pids_cgroup &&
         a.max_processes == b.max_processes && a.max_open_files == b.max_open_files &&
         a.output_limit_bytes == b.output_limit_bytes && a.seccomp == b.seccomp;
}
bool operator_equal(const SpawnReply& a, const SpawnReply& b) {
  return a.pid == b.pid && a.error == b.error;
}
bool operator_equal(const WorkerExit& a, const WorkerExit& b) {
  return a.pid == b.pid && a.wait_status == b.wait_status && a.out_of_memory == b.out_of_memory;
}
bool operator_equal(const WorkerOutput& a, const WorkerOutput& b) {
  return a.pid == b.pid && a.bytes == b.bytes && a.truncated == b.truncated;
}
bool operator_equal(const InvokeRequest& a, const InvokeRequest& b) {
  return a.budget_ns == b.budget_ns && a.input == b.input;
}
bool operator_equal(const CallFailure& a, const CallFailure& b) {
  return a.result == b.result && a.message == b.message;
}
bool operator_equal(const LogLine& a, const LogLine& b) {
  return a.level == b.level && a.message == b.message;
}

// Decodes `payload` as a T; when that works, checks decode(encode(x)) == x
// and that the encoding is canonical (re-encoding gives the same bytes).
template <typename T>
void round_trip(std::string_view payload) {
  T value;
  try {
    value = T::decode(payload);
  } catch (const ProtocolError&) {
    return;
  }
  const std::string encoded = value.encode();
  T again;
  try {
    again = T::decode(encoded);
  } catch (const ProtocolError&) {
    fail("a decoded value does not decode after encode");
  }
  if (!operator_equal(value, again)) fail("decode(encode(x)) != x");
  if (again.encode() != encoded) fail("encode is not stable");
}

void decode_payload(FrameType type, std::string_view payload) {
  switch (type) {
    case FrameType::Spawn:
      return round_trip<SpawnRequest>(payload);
    case FrameType::Spawned:
      return round_trip<SpawnReply>(payload);
    case FrameType::WorkerExited:
      return round_trip<WorkerExit>(payload);
    case FrameType::WorkerOutput:
      return round_trip<WorkerOutput>(payload);
    case FrameType::LoadFailed:
    case FrameType::Failed:
      return round_trip<CallFailure>(payload);
    case FrameType::Log:
      return round_trip<LogLine>(payload);
    case FrameType::Invoke:
      return round_trip<InvokeRequest>(payload);
    case FrameType::Loaded:
    case FrameType::Output:
    case FrameType::OutOfMemory:
      return;  // raw or empty payloads
  }
  fail("FrameDecoder returned a frame of an unknown type");
}

// The stream, fed in chunks whose sizes come from the input's first byte.
void decode_stream(std::string_view input) {
  if (input.empty()) return;
  const std::size_t chunk = 1 + static_cast<unsigned char>(input[0]) % 64;
  input.remove_prefix(1);
  FrameDecoder decoder;
  std::size_t fed = 0;
  std::size_t delivered = 0;
  try {
    while (fed < input.size() || decoder.buffered() != 0) {
      if (fed < input.size()) {
        const std::string_view piece = input.substr(fed, chunk);
        decoder.feed(piece);
        fed += piece.size();
      }
      while (std::optional<Frame> frame = decoder.next()) {
        delivered += kHeaderSize + frame->payload.size();
        // The frame re-encodes to exactly the bytes it was cut from.
        if (encode_frame(frame->type, frame->payload) !=
            input.substr(delivered - kHeaderSize - frame->payload.size(),
                         kHeaderSize + frame->payload.size())) {
          fail("a frame does not re-encode to its bytes");
        }
        decode_payload(frame->type, frame->payload);
      }
      if (fed >= input.size()) break;  // the rest is an incomplete frame
    }
  } catch (const ProtocolError&) {
    return;
  }
  if (delivered + decoder.buffered() != input.size()) fail("FrameDecoder lost or invented bytes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  decode_stream(input);
  round_trip<SpawnRequest>(input);
  round_trip<SpawnReply>(input);
  round_trip<WorkerExit>(input);
  round_trip<WorkerOutput>(input);
  round_trip<InvokeRequest>(input);
  round_trip<CallFailure>(input);
  round_trip<LogLine>(input);
  return 0;
}
