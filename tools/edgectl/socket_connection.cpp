#include "socket_connection.hpp"

#include "http_client.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <memory>
#include <system_error>
#include <utility>

namespace edgectl {
namespace {

std::string errno_text(int error) { return std::generic_category().message(error); }

int milliseconds_until(SocketConnection::Clock::time_point deadline) {
  const auto left =
      std::chrono::ceil<std::chrono::milliseconds>(deadline - SocketConnection::Clock::now());
  return static_cast<int>(std::max<std::chrono::milliseconds::rep>(left.count(), 0));
}

struct AddressListDeleter {
  void operator()(addrinfo* list) const noexcept { ::freeaddrinfo(list); }
};

// Connects `descriptor` (non-blocking) to `address` by the deadline;
// returns 0 or the errno of the failure (ETIMEDOUT at the deadline).
int connect_by(int descriptor, const addrinfo& address,
               SocketConnection::Clock::time_point deadline) {
  if (::connect(descriptor, address.ai_addr, address.ai_addrlen) == 0) return 0;
  if (errno != EINPROGRESS) return errno;
  pollfd watched{descriptor, POLLOUT, 0};
  for (;;) {
    const int ready = ::poll(&watched, 1, milliseconds_until(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return errno;
    if (ready == 0) return ETIMEDOUT;
    break;
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (::getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0) return errno;
  return error;
}

}  // namespace

SocketConnection SocketConnection::connect(const std::string& host, const std::string& port,
                                           const std::string& url, Clock::time_point deadline) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (const int error = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found); error != 0) {
    throw TransportError(
        "cannot connect to " + url + ": " +
        (error == EAI_SYSTEM ? errno_text(errno) : std::string(::gai_strerror(error))));
  }
  const std::unique_ptr<addrinfo, AddressListDeleter> addresses(found);

  int last_error = ECONNREFUSED;
  for (const addrinfo* address = addresses.get(); address != nullptr; address = address->ai_next) {
    const int descriptor =
        ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                 address->ai_protocol);
    if (descriptor < 0) {
      last_error = errno;
      continue;
    }
    SocketConnection connection(descriptor, url);
    last_error = connect_by(descriptor, *address, deadline);
    if (last_error == 0) return connection;
    if (last_error == ETIMEDOUT) break;  // the deadline is for all addresses together
  }
  throw TransportError("cannot connect to " + url + ": " + errno_text(last_error));
}

SocketConnection::SocketConnection(SocketConnection&& other) noexcept
    : descriptor_(std::exchange(other.descriptor_, -1)), url_(std::move(other.url_)) {}

SocketConnection& SocketConnection::operator=(SocketConnection&& other) noexcept {
  if (this != &other) {
    if (descriptor_ >= 0) ::close(descriptor_);
    descriptor_ = std::exchange(other.descriptor_, -1);
    url_ = std::move(other.url_);
  }
  return *this;
}

SocketConnection::~SocketConnection() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

void SocketConnection::wait_for(short events, Clock::time_point deadline, std::string_view doing) {
  pollfd watched{descriptor_, events, 0};
  for (;;) {
    const int ready = ::poll(&watched, 1, milliseconds_until(deadline));
    if (ready > 0) return;
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw TransportError(std::string(doing) + " " + url_ + ": " + errno_text(errno));
    throw TransportError(std::string(doing) + " " + url_ + ": " + errno_text(ETIMEDOUT));
  }
}

void SocketConnection::write_all(std::string_view data, Clock::time_point deadline) {
  while (!data.empty()) {
    // MSG_NOSIGNAL: a server that closed early is an EPIPE error here,
    // not a SIGPIPE that kills edgectl without a message.
    const ssize_t sent = ::send(descriptor_, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent >= 0) {
      data.remove_prefix(static_cast<std::size_t>(sent));
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(POLLOUT, deadline, "cannot send the request to");
    } else if (errno != EINTR) {
      throw TransportError("cannot send the request to " + url_ + ": " + errno_text(errno));
    }
  }
}

bool SocketConnection::read_some(std::string& buffer, Clock::time_point deadline) {
  std::array<char, 64UL * 1024> chunk{};
  for (;;) {
    const ssize_t received = ::recv(descriptor_, chunk.data(), chunk.size(), 0);
    if (received > 0) {
      buffer.append(chunk.data(), static_cast<std::size_t>(received));
      return true;
    }
    if (received == 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      wait_for(POLLIN, deadline, "no answer from");
    } else if (errno != EINTR) {
      throw TransportError("connection to " + url_ + " failed: " + errno_text(errno));
    }
  }
}

}  // namespace edgectl
