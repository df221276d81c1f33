// FrameChannel: frames over one end of a Unix stream socket, with deadlines.
// The host side passes a deadline to every call (a worker that stops reading
// or answering must never block the host past a call's deadline); the worker
// side passes none and blocks.
//
// Thread-safety: none; one owner at a time (a worker process is used by one
// call at a time). Writes use MSG_NOSIGNAL: a dead peer is an error, never a
// SIGPIPE.
#pragma once

#include "sandbox/frame.hpp"
#include "util/file_descriptor.hpp"

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string_view>

namespace edge::sandbox {

// The peer closed its end (or the socket failed): no more frames.
class ChannelClosed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class FrameChannel {
 public:
  using Clock = std::chrono::steady_clock;
  using Deadline = std::optional<Clock::time_point>;  // nullopt: wait forever

  FrameChannel() = default;
  explicit FrameChannel(FileDescriptor socket) noexcept : socket_(std::move(socket)) {}

  // False when the deadline passed before the whole frame was written (the
  // stream is then unusable). Throws ChannelClosed, or ProtocolError for a
  // payload over kMaxPayload.
  bool send(FrameType type, std::string_view payload, Deadline deadline = std::nullopt);
  // The next frame; nullopt when the deadline passed first. Throws
  // ChannelClosed at end of stream, ProtocolError on malformed bytes.
  std::optional<Frame> receive(Deadline deadline = std::nullopt);

  int fd() const noexcept { return socket_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(socket_); }

 private:
  // Waits for `events` until the deadline; false on timeout.
  bool wait(short events, Deadline deadline) const;

  FileDescriptor socket_;
  FrameDecoder decoder_;
};

}  // namespace edge::sandbox
