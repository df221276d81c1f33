#include "sandbox/frame_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <ctime>
#include <system_error>

namespace edge::sandbox {
namespace {

constexpr auto kSpin = std::chrono::microseconds(30);

}  // namespace

bool FrameChannel::wait(short events, Deadline deadline) const {
  pollfd entry{socket_.get(), events, 0};
  for (;;) {
    timespec timeout{};
    timespec* timeout_pointer = nullptr;
    if (deadline) {
      const auto left =
          std::chrono::duration_cast<std::chrono::nanoseconds>(*deadline - Clock::now());
      if (left.count() <= 0) return false;
      timeout.tv_sec = static_cast<time_t>(left.count() / 1'000'000'000);
      timeout.tv_nsec = static_cast<long>(left.count() % 1'000'000'000);
      timeout_pointer = &timeout;
    }
    const int ready = ::ppoll(&entry, 1, timeout_pointer, nullptr);
    if (ready > 0) return true;  // readable, writable, or hung up: the next call tells
    if (ready == 0) return false;
    if (errno != EINTR)
      throw ChannelClosed(std::string("poll failed: ") + std::generic_category().message(errno));
  }
}

bool FrameChannel::send(FrameType type, std::string_view payload, Deadline deadline) {
  if (payload.size() > kMaxPayload) {
    throw ProtocolError("frame payload of " + std::to_string(payload.size()) +
                        " bytes is over the limit");
  }
  const std::string header = encode_header(type, static_cast<std::uint32_t>(payload.size()));
  std::array<iovec, 2> parts{iovec{const_cast<char*>(header.data()), header.size()},
                             iovec{const_cast<char*>(payload.data()), payload.size()}};
  std::size_t first = 0;
  const int flags = MSG_NOSIGNAL | (deadline ? MSG_DONTWAIT : 0);
  while (first < parts.size()) {
    msghdr message{};
    message.msg_iov = parts.data() + first;
    message.msg_iovlen = parts.size() - first;
    const ssize_t written = ::sendmsg(socket_.get(), &message, flags);
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait(POLLOUT, deadline)) return false;
        continue;
      }
      throw ChannelClosed(std::string("write failed: ") + std::generic_category().message(errno));
    }
    auto left = static_cast<std::size_t>(written);
    while (first < parts.size() && left >= parts[first].iov_len) {
      left -= parts[first].iov_len;
      ++first;
    }
    if (first < parts.size()) {
      parts[first].iov_base = static_cast<char*>(parts[first].iov_base) + left;
      parts[first].iov_len -= left;
    }
  }
  return true;
}

std::optional<Frame> FrameChannel::receive(Deadline deadline) {
  // Look for the next frame for a few microseconds before sleeping: a fast
  // worker answers within that, and a worker serving a stream of calls finds
  // the next one, so neither side pays a sleep and a wake-up, the dearest
  // part of a round trip (on a virtual machine above all).
  const Clock::time_point spin_until = Clock::now() + kSpin;
  for (;;) {
    if (std::optional<Frame> frame = decoder_.next()) return frame;
    std::array<char, 64UL * 1024> chunk;
    ssize_t count = -1;
    count = ::recv(socket_.get(), chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Clock::now() < spin_until) continue;
      if (deadline && !wait(POLLIN, deadline)) return std::nullopt;
      count = ::recv(socket_.get(), chunk.data(), chunk.size(), deadline ? MSG_DONTWAIT : 0);
    }
    if (count > 0) {
      decoder_.feed(std::string_view(chunk.data(), static_cast<std::size_t>(count)));
    } else if (count == 0) {
      throw ChannelClosed("the peer closed the channel");
    } else if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
      throw ChannelClosed(std::string("read failed: ") + std::generic_category().message(errno));
    }
  }
}

}  // namespace edge::sandbox
