// The sandbox's wire protocol: the frames the host, the zygote and the
// worker processes exchange. Plain bytes, so a worker can never hand the host
// a pointer; every length is checked before it is trusted, because the peer
// runs plugin code.
//
// A frame is an 8-byte header followed by its payload:
//   bytes 0-1  magic 'E' 'W'
//   byte  2    protocol version (kProtocolVersion)
//   byte  3    FrameType
//   bytes 4-7  payload length, little-endian, at most kMaxPayload
// Payload fields are little-endian integers and strings prefixed with their
// u32 length (PayloadWriter / PayloadReader).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace edge::sandbox {

inline constexpr std::uint8_t kProtocolVersion = 1;
inline constexpr std::size_t kHeaderSize = 8;
// Bounds a frame a peer may make us buffer: above the HTTP API's body limit.
inline constexpr std::uint32_t kMaxPayload = 64u << 20;

// A worker's exit code after it reported an OutOfMemory frame, and after a
// failed load: the host reads the frame first; the code is for the logs.
inline constexpr int kExitOutOfMemory = 86;
inline constexpr int kExitLoadFailed = 87;

enum class FrameType : std::uint8_t {
  // host -> zygote
  Spawn = 1,  // SpawnRequest
  // zygote -> host
  Spawned = 2,       // SpawnReply (the worker's socket travels as SCM_RIGHTS)
  WorkerExited = 3,  // WorkerExit
  WorkerOutput = 4,  // WorkerOutput: what the worker wrote to stdout/stderr
  // worker -> host
  Loaded = 10,       // empty: the plugin is loaded and initialised
  LoadFailed = 11,   // CallFailure
  Output = 12,       // the call's output bytes
  Failed = 13,       // CallFailure
  Log = 14,          // LogLine
  OutOfMemory = 15,  // empty: an allocation failed; the worker exits next
  // host -> worker
  Invoke = 20,  // InvokeRequest
};

// Malformed bytes from a peer: a bad header, an oversized or truncated
// payload, an unknown type.
class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  FrameType type{};
  std::string payload;
};

// The header for a payload of `length` bytes.
std::string encode_header(FrameType type, std::uint32_t length);
std::string encode_frame(FrameType type, std::string_view payload);

// Accumulates bytes from a stream and cuts them into frames.
class FrameDecoder {
 public:
  void feed(std::string_view bytes) { buffer_.append(bytes); }
  // The next complete frame, or nullopt when more bytes are needed. Throws
  // ProtocolError on a malformed header (the stream is then unusable).
  std::optional<Frame> next();
  std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

 private:
  std::string buffer_;
  std::size_t consumed_ = 0;
};

class PayloadWriter {
 public:
  PayloadWriter& u8(std::uint8_t value);
  PayloadWriter& u32(std::uint32_t value);
  PayloadWriter& u64(std::uint64_t value);
  PayloadWriter& i64(std::int64_t value) { return u64(static_cast<std::uint64_t>(value)); }
  PayloadWriter& string(std::string_view value);
  std::string take() { return std::move(bytes_); }

 private:
  std::string bytes_;
};

// Reads fields in order; throws ProtocolError past the end. finish() checks
// that nothing is left over.
class PayloadReader {
 public:
  explicit PayloadReader(std::string_view bytes) noexcept : bytes_(bytes) {}
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::int64_t i64() { return static_cast<std::int64_t>(u64()); }
  std::string_view string();
  void finish() const;

 private:
  std::string_view take(std::size_t count);
  std::string_view bytes_;
};

// What a worker is for and how it is confined. Sent to the zygote, which
// applies the limits in the new process before the plugin's code runs.
struct SpawnRequest {
  std::string function_id;
  std::string plugin_path;  // the content copy to load
  std::map<std::string, std::string> environment;
  std::int64_t init_budget_ns = 0;  // how long init may take
  std::uint64_t memory_limit_bytes = 0;
  std::string memory_cgroup;  // parent directory for the worker's memory cgroup; empty: none
  std::string memory_cgroup_version;     // "1" or "2" when memory_cgroup is set
  bool address_space_limit = false;      // RLIMIT_AS = baseline + memory_limit_bytes
  std::string pids_cgroup;               // parent directory for the pids cgroup; empty: none
  std::uint32_t max_processes = 0;       // pids.max, or RLIMIT_NPROC without a cgroup
  std::uint32_t max_open_files = 0;      // RLIMIT_NOFILE
  std::uint32_t output_limit_bytes = 0;  // stdout/stderr forwarded to the host, then dropped
  bool seccomp = true;

  std::string encode() const;
  static SpawnRequest decode(std::string_view payload);
};

struct SpawnReply {
  std::int32_t pid = 0;  // 0 on failure
  std::string error;

  std::string encode() const;
  static SpawnReply decode(std::string_view payload);
};

struct WorkerExit {
  std::int32_t pid = 0;
  std::int32_t wait_status = 0;  // as waitpid reports it
  bool out_of_memory = false;    // the memory cgroup recorded an OOM kill

  std::string encode() const;
  static WorkerExit decode(std::string_view payload);
};

struct WorkerOutput {
  std::int32_t pid = 0;
  std::string bytes;
  bool truncated = false;  // the worker's output budget is spent; the rest is dropped

  std::string encode() const;
  static WorkerOutput decode(std::string_view payload);
};

struct InvokeRequest {
  std::int64_t budget_ns = 0;  // time left before the deadline
  std::string input;

  std::string encode() const;
  static InvokeRequest decode(std::string_view payload);
};

// A failed load or call: the SDK's result code and the plugin's message.
struct CallFailure {
  std::uint8_t result = 0;  // edge_result
  std::string message;

  std::string encode() const;
  static CallFailure decode(std::string_view payload);
};

struct LogLine {
  std::uint8_t level = 0;  // edge_log_level
  std::string message;

  std::string encode() const;
  static LogLine decode(std::string_view payload);
};

}  // namespace edge::sandbox
