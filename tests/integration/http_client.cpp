#include "http_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <stdexcept>
#include <system_error>

namespace edge::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string lower_case(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(), [](char character) {
    return character >= 'A' && character <= 'Z' ? static_cast<char>(character - 'A' + 'a')
                                                : character;
  });
  return lower;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Waits until the descriptor is ready for `events`; false after the deadline.
bool wait_ready(int descriptor, short events, HttpConnection::Clock::time_point deadline) {
  for (;;) {
    const auto remaining =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - HttpConnection::Clock::now());
    if (remaining.count() <= 0) return false;
    pollfd poll_descriptor{descriptor, events, 0};
    const int ready = ::poll(&poll_descriptor, 1, static_cast<int>(remaining.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw_errno("poll");
    if (ready > 0) return true;
  }
}

}  // namespace

const std::string* HttpReply::header(std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return &value;
  }
  return nullptr;
}

std::string format_request(std::string_view method, std::string_view target, std::string_view body,
                           const HeaderList& headers) {
  std::string request;
  request.append(method).append(" ").append(target).append(" HTTP/1.1\r\n");
  request += "Host: 127.0.0.1\r\n";
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    request.append(name).append(": ").append(value).append("\r\n");
    has_length = has_length || lower_case(name) == "content-length";
  }
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n";
  request.append(body);
  return request;
}

HttpConnection::HttpConnection(std::string_view host, std::uint16_t port,
                               std::chrono::milliseconds timeout)
    : timeout_(timeout) {
  descriptor_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (descriptor_ < 0) throw_errno("socket");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (::inet_pton(AF_INET, std::string(host).c_str(), &address.sin_addr) != 1) {
    ::close(descriptor_);
    throw std::invalid_argument("not an IPv4 address: " + std::string(host));
  }
  const int one = 1;
  ::setsockopt(descriptor_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(descriptor_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
      errno != EINPROGRESS) {
    const int error = errno;
    ::close(descriptor_);
    throw std::system_error(error, std::generic_category(), "connect");
  }
  int error = 0;
  socklen_t length = sizeof error;
  if (!wait_ready(descriptor_, POLLOUT, Clock::now() + timeout_) ||
      ::getsockopt(descriptor_, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
    ::close(descriptor_);
    throw std::system_error(error != 0 ? error : ETIMEDOUT, std::generic_category(),
                            "connect to 127.0.0.1:" + std::to_string(port));
  }
}

HttpConnection::~HttpConnection() {
  if (descriptor_ >= 0) ::close(descriptor_);
}

bool HttpConnection::send(std::string_view bytes) {
  const Clock::time_point deadline = Clock::now() + timeout_;
  while (!bytes.empty()) {
    const ssize_t written = ::send(descriptor_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (written < 0 && errno == EINTR) continue;
    if (written < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_ready(descriptor_, POLLOUT, deadline)) {
        throw std::system_error(ETIMEDOUT, std::generic_category(), "send");
      }
      continue;
    }
    if (written < 0 && (errno == EPIPE || errno == ECONNRESET)) return false;
    if (written < 0) throw_errno("send");
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
  return true;
}

HttpConnection::Fill HttpConnection::fill(Clock::time_point deadline) {
  for (;;) {
    std::array<char, 64UL * 1024> chunk{};
    const ssize_t count = ::recv(descriptor_, chunk.data(), chunk.size(), 0);
    if (count > 0) {
      buffer_.append(chunk.data(), static_cast<std::size_t>(count));
      return Fill::Data;
    }
    if (count == 0) return Fill::Closed;
    if (errno == EINTR) continue;
    if (errno == ECONNRESET) return Fill::Closed;
    if (errno != EAGAIN && errno != EWOULDBLOCK) throw_errno("recv");
    if (!wait_ready(descriptor_, POLLIN, deadline)) return Fill::Timeout;
  }
}

bool HttpConnection::fill_or_throw(Clock::time_point deadline) {
  const Fill result = fill(deadline);
  if (result == Fill::Timeout) {
    throw std::runtime_error("no complete response within " + std::to_string(timeout_.count()) +
                             " ms (received so far: '" + buffer_ + "')");
  }
  return result == Fill::Data;
}

HttpReply HttpConnection::read_reply() {
  const Clock::time_point deadline = Clock::now() + timeout_;
  for (;;) {
    std::size_t head_end = buffer_.find("\r\n\r\n");
    while (head_end == std::string::npos) {
      if (!fill_or_throw(deadline)) {
        throw std::runtime_error("connection closed before a complete response header" +
                                 (buffer_.empty() ? std::string() : " ('" + buffer_ + "')"));
      }
      head_end = buffer_.find("\r\n\r\n");
    }
    HttpReply reply;
    const std::string_view head(buffer_.data(), head_end);
    std::size_t line_end = head.find("\r\n");
    const std::string_view status_line = head.substr(0, line_end);
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12) {
      throw std::runtime_error("malformed status line: '" + std::string(status_line) + "'");
    }
    std::from_chars(status_line.data() + 9, status_line.data() + 12, reply.status);
    reply.reason = std::string(status_line.substr(std::min<std::size_t>(13, status_line.size())));
    while (line_end != std::string_view::npos) {
      const std::size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string_view line = head.substr(start, line_end - start);
      const std::size_t colon = line.find(':');
      if (colon == std::string_view::npos) {
        throw std::runtime_error("malformed header line: '" + std::string(line) + "'");
      }
      reply.headers.emplace_back(lower_case(line.substr(0, colon)),
                                 std::string(trim(line.substr(colon + 1))));
    }
    buffer_.erase(0, head_end + 4);
    if (reply.status >= 100 && reply.status < 200) continue;  // 100 Continue: the real one follows

    if (const std::string* length = reply.header("content-length")) {
      std::size_t size = 0;
      std::from_chars(length->data(), length->data() + length->size(), size);
      while (buffer_.size() < size) {
        if (!fill_or_throw(deadline))
          throw std::runtime_error("connection closed inside a response body");
      }
      reply.body = buffer_.substr(0, size);
      buffer_.erase(0, size);
    } else {
      while (fill_or_throw(deadline)) {
      }
      reply.body = std::move(buffer_);
      buffer_.clear();
    }
    return reply;
  }
}

HttpReply HttpConnection::request(std::string_view method, std::string_view target,
                                  std::string_view body, const HeaderList& headers) {
  send(format_request(method, target, body, headers));
  return read_reply();
}

bool HttpConnection::wait_for_close(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    switch (fill(deadline)) {
      case Fill::Data:
        buffer_.clear();
        continue;
      case Fill::Closed:
        return true;
      case Fill::Timeout:
        return false;
    }
  }
}

void HttpConnection::shutdown_write() { ::shutdown(descriptor_, SHUT_WR); }

void HttpConnection::close() {
  if (descriptor_ >= 0) ::close(descriptor_);
  descriptor_ = -1;
}

HttpReply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                       std::string_view body, const HeaderList& headers) {
  HttpConnection connection("127.0.0.1", port);
  return connection.request(method, target, body, headers);
}

}  // namespace edge::test
