// One TCP connection with deadlines: every connect, write and read waits at
// most until the deadline it is given (poll on a non-blocking socket), so a
// server that stops answering cannot hang edgectl. Move-only; closes on
// destruction.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace edgectl {

class SocketConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Resolves host:port and connects to the first address that answers.
  // Throws TransportError naming `url` and the cause (errno text, or the
  // resolver's message).
  static SocketConnection connect(const std::string& host, const std::string& port,
                                  const std::string& url, Clock::time_point deadline);

  SocketConnection(SocketConnection&& other) noexcept;
  SocketConnection& operator=(SocketConnection&& other) noexcept;
  SocketConnection(const SocketConnection&) = delete;
  SocketConnection& operator=(const SocketConnection&) = delete;
  ~SocketConnection();

  // Throws TransportError on failure or at the deadline.
  void write_all(std::string_view data, Clock::time_point deadline);
  // Appends what arrives to `buffer`; false at end of stream. Throws
  // TransportError on failure or at the deadline.
  bool read_some(std::string& buffer, Clock::time_point deadline);

 private:
  SocketConnection(int descriptor, std::string url)
      : descriptor_(descriptor), url_(std::move(url)) {}
  // Waits for `events` on the socket; throws at the deadline.
  void wait_for(short events, Clock::time_point deadline, std::string_view doing);

  int descriptor_ = -1;
  std::string url_;  // for messages
};

}  // namespace edgectl
