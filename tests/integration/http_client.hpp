// A small blocking HTTP/1.1 client over POSIX sockets, for tests that talk to
// the real edge-host: one connection, requests written as given (so a test can
// send malformed or pipelined ones), responses read with Content-Length.
//
// Every read has a deadline; nothing here blocks forever. Not thread-safe:
// one connection per thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge::test {

struct HttpReply {
  int status = 0;
  std::string reason;
  // Header names lower-cased, in the order received.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_case_name) const;
};

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// "METHOD target HTTP/1.1" with Host, Content-Length (when there is a body or
// the method is POST/PUT) and `headers`, ready to send.
std::string format_request(std::string_view method, std::string_view target,
                           std::string_view body = {}, const HeaderList& headers = {});

class HttpConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // Connects to host:port (an IPv4 literal). Throws std::system_error.
  HttpConnection(std::string_view host, std::uint16_t port,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // Writes all of `bytes`. False when the server had closed or reset the
  // connection (the test may still read what it answered before that);
  // throws std::system_error on other errors or after the timeout.
  bool send(std::string_view bytes);

  // Reads one response (interim 1xx responses are skipped). Throws
  // std::runtime_error naming the problem on a timeout, a closed connection
  // or a malformed response.
  HttpReply read_reply();

  // send(format_request(...)) then read_reply().
  HttpReply request(std::string_view method, std::string_view target, std::string_view body = {},
                    const HeaderList& headers = {});

  // Waits until the server closes the connection (end of stream or reset),
  // discarding anything it sends meanwhile. False after `timeout`.
  bool wait_for_close(std::chrono::milliseconds timeout);

  // Half-closes our side (shutdown SHUT_WR): the server reads end of stream.
  void shutdown_write();
  // Closes the connection now (the destructor does too).
  void close();

 private:
  enum class Fill { Data, Closed, Timeout };  // Closed: end of stream or reset
  // Reads more into buffer_.
  Fill fill(Clock::time_point deadline);
  // As fill; false when closed, std::runtime_error after the deadline.
  bool fill_or_throw(Clock::time_point deadline);

  int descriptor_ = -1;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // received, not yet consumed
};

// One request on a fresh connection.
HttpReply http_request(std::uint16_t port, std::string_view method, std::string_view target,
                       std::string_view body = {}, const HeaderList& headers = {});

}  // namespace edge::test
