#include "sandbox/frame.hpp"

#include <cstring>

namespace edge::sandbox {
namespace {

constexpr char kMagic0 = 'E';
constexpr char kMagic1 = 'W';

bool is_known(std::uint8_t type) noexcept {
  switch (static_cast<FrameType>(type)) {
    case FrameType::Spawn:
    case FrameType::Spawned:
    case FrameType::WorkerExited:
    case FrameType::WorkerOutput:
    case FrameType::Loaded:
    case FrameType::LoadFailed:
    case FrameType::Output:
    case FrameType::Failed:
    case FrameType::Log:
    case FrameType::OutOfMemory:
    case FrameType::Invoke:
      return true;
  }
  return false;
}

std::uint32_t checked_length(std::size_t size) {
  if (size > kMaxPayload) {
    throw ProtocolError("frame payload of " + std::to_string(size) +
                        " bytes is over the limit of " + std::to_string(kMaxPayload));
  }
  return static_cast<std::uint32_t>(size);
}

}  // namespace

std::string encode_header(FrameType type, std::uint32_t length) {
  std::string header(kHeaderSize, '\0');
  header[0] = kMagic0;
  header[1] = kMagic1;
  header[2] = static_cast<char>(kProtocolVersion);
  header[3] = static_cast<char>(type);
  for (int byte = 0; byte < 4; ++byte) header[4 + byte] = static_cast<char>(length >> (8 * byte));
  return header;
}

std::string encode_frame(FrameType type, std::string_view payload) {
  std::string frame = encode_header(type, checked_length(payload.size()));
  frame.append(payload);
  return frame;
}

std::optional<Frame> FrameDecoder::next() {
  if (buffered() < kHeaderSize) return std::nullopt;
  const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + consumed_);
  if (header[0] != kMagic0 || header[1] != kMagic1) throw ProtocolError("bad frame magic");
  if (header[2] != kProtocolVersion) {
    throw ProtocolError("protocol version " + std::to_string(header[2]) + ", expected " +
                        std::to_string(kProtocolVersion));
  }
  if (!is_known(header[3])) throw ProtocolError("unknown frame type " + std::to_string(header[3]));
  std::uint32_t length = 0;
  for (int byte = 0; byte < 4; ++byte) length |= std::uint32_t{header[4 + byte]} << (8 * byte);
  checked_length(length);
  if (buffered() < kHeaderSize + length) return std::nullopt;
  Frame frame{static_cast<FrameType>(header[3]), buffer_.substr(consumed_ + kHeaderSize, length)};
  consumed_ += kHeaderSize + length;
  // Compact once the consumed prefix dominates, so the buffer stays bounded
  // by one frame plus what is in flight.
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  return frame;
}

PayloadWriter& PayloadWriter::u8(std::uint8_t value) {
  bytes_.push_back(static_cast<char>(value));
  return *this;
}

PayloadWriter& PayloadWriter::u32(std::uint32_t value) {
  for (int byte = 0; byte < 4; ++byte) bytes_.push_back(static_cast<char>(value >> (8 * byte)));
  return *this;
}

PayloadWriter& PayloadWriter::u64(std::uint64_t value) {
  for (int byte = 0; byte < 8; ++byte) bytes_.push_back(static_cast<char>(value >> (8 * byte)));
  return *this;
}

PayloadWriter& PayloadWriter::string(std::string_view value) {
  u32(checked_length(value.size()));
  bytes_.append(value);
  return *this;
}

std::string_view PayloadReader::take(std::size_t count) {
  if (count > bytes_.size()) {
    throw ProtocolError("truncated payload: " + std::to_string(count) + " bytes needed, " +
                        std::to_string(bytes_.size()) + " left");
  }
  const std::string_view taken = bytes_.substr(0, count);
  bytes_.remove_prefix(count);
  return taken;
}

std::uint8_t PayloadReader::u8() { return static_cast<std::uint8_t>(take(1)[0]); }

std::uint32_t PayloadReader::u32() {
  const std::string_view bytes = take(4);
  std::uint32_t value = 0;
  for (int byte = 0; byte < 4; ++byte) {
    value |= std::uint32_t{static_cast<unsigned char>(bytes[byte])} << (8 * byte);
  }
  return value;
}

std::uint64_t PayloadReader::u64() {
  const std::string_view bytes = take(8);
  std::uint64_t value = 0;
  for (int byte = 0; byte < 8; ++byte) {
    value |= std::uint64_t{static_cast<unsigned char>(bytes[byte])} << (8 * byte);
  }
  return value;
}

std::string_view PayloadReader::string() { return take(u32()); }

void PayloadReader::finish() const {
  if (!bytes_.empty()) {
    throw ProtocolError(std::to_string(bytes_.size()) + " unexpected bytes after the payload");
  }
}

namespace {

bool read_bool(PayloadReader& reader) {
  const std::uint8_t value = reader.u8();
  if (value > 1) throw ProtocolError("boolean field is " + std::to_string(value));
  return value == 1;
}

}  // namespace

std::string SpawnRequest::encode() const {
  PayloadWriter writer;
  writer.string(function_id).string(plugin_path).u32(checked_length(environment.size()));
  for (const auto& [name, value] : environment) writer.string(name).string(value);
  writer.i64(init_budget_ns)
      .u64(memory_limit_bytes)
      .string(memory_cgroup)
      .string(memory_cgroup_version)
      .u8(address_space_limit ? 1 : 0)
      .string(pids_cgroup)
      .u32(max_processes)
      .u32(max_open_files)
      .u32(output_limit_bytes)
      .u8(seccomp ? 1 : 0);
  return writer.take();
}

SpawnRequest SpawnRequest::decode(std::string_view payload) {
  PayloadReader reader(payload);
  SpawnRequest request;
  request.function_id = reader.string();
  request.plugin_path = reader.string();
  const std::uint32_t variables = reader.u32();
  for (std::uint32_t index = 0; index < variables; ++index) {
    std::string name(reader.string());
    request.environment[std::move(name)] = reader.string();
  }
  request.init_budget_ns = reader.i64();
  request.memory_limit_bytes = reader.u64();
  request.memory_cgroup = reader.string();
  request.memory_cgroup_version = reader.string();
  request.address_space_limit = read_bool(reader);
  request.pids_cgroup = reader.string();
  request.max_processes = reader.u32();
  request.max_open_files = reader.u32();
  request.output_limit_bytes = reader.u32();
  request.seccomp = read_bool(reader);
  reader.finish();
  return request;
}

std::string SpawnReply::encode() const {
  return PayloadWriter().u32(static_cast<std::uint32_t>(pid)).string(error).take();
}

SpawnReply SpawnReply::decode(std::string_view payload) {
  PayloadReader reader(payload);
  SpawnReply reply;
  reply.pid = static_cast<std::int32_t>(reader.u32());
  reply.error = reader.string();
  reader.finish();
  return reply;
}

std::string WorkerExit::encode() const {
  return PayloadWriter()
      .u32(static_cast<std::uint32_t>(pid))
      .u32(static_cast<std::uint32_t>(wait_status))
      .u8(out_of_memory ? 1 : 0)
      .take();
}

WorkerExit WorkerExit::decode(std::string_view payload) {
  PayloadReader reader(payload);
  WorkerExit exit;
  exit.pid = static_cast<std::int32_t>(reader.u32());
  exit.wait_status = static_cast<std::int32_t>(reader.u32());
  exit.out_of_memory = read_bool(reader);
  reader.finish();
  return exit;
}

std::string WorkerOutput::encode() const {
  return PayloadWriter()
      .u32(static_cast<std::uint32_t>(pid))
      .string(bytes)
      .u8(truncated ? 1 : 0)
      .take();
}

WorkerOutput WorkerOutput::decode(std::string_view payload) {
  PayloadReader reader(payload);
  WorkerOutput output;
  output.pid = static_cast<std::int32_t>(reader.u32());
  output.bytes = reader.string();
  output.truncated = read_bool(reader);
  reader.finish();
  return output;
}

std::string InvokeRequest::encode() const {
  return PayloadWriter().i64(budget_ns).string(input).take();
}

InvokeRequest InvokeRequest::decode(std::string_view payload) {
  PayloadReader reader(payload);
  InvokeRequest request;
  request.budget_ns = reader.i64();
  request.input = reader.string();
  reader.finish();
  return request;
}

std::string CallFailure::encode() const {
  return PayloadWriter().u8(result).string(message).take();
}

CallFailure CallFailure::decode(std::string_view payload) {
  PayloadReader reader(payload);
  CallFailure failure;
  failure.result = reader.u8();
  failure.message = reader.string();
  reader.finish();
  return failure;
}

std::string LogLine::encode() const { return PayloadWriter().u8(level).string(message).take(); }

LogLine LogLine::decode(std::string_view payload) {
  PayloadReader reader(payload);
  LogLine line;
  line.level = reader.u8();
  line.message = reader.string();
  reader.finish();
  return line;
}

}  // namespace edge::sandbox
