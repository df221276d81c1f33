// One accepted TCP connection: reads requests one at a time, hands each to
// the handler and writes the answer, until the client or the server closes it.
// Internal to the server (includes Beast): include only from http/*.cpp.
//
// Thread-safety: every member runs on the connection's strand. The registry
// in ServerCore is the only state shared between connections.
//
// Timeouts: one deadline at a time (the idle timeout while waiting for a
// request, the read timeout from its first byte to its last, the same for
// writing the response, none while the handler runs), watched by one timer
// per connection. Moving the deadline later only updates a time point; the
// timer, when it fires early, re-arms itself for the new deadline. So a
// request costs no timer operation (no lock, no timerfd update), unlike
// beast::tcp_stream, which arms and cancels a timer around every read and
// write.
#pragma once

#include "http/beast.hpp"
#include "http/message.hpp"
#include "http/server.hpp"
#include "log/logger.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace edge::http {

class Connection;

// What the acceptor and every connection share. Owned by the server; must
// outlive every connection (the io_context that holds them is destroyed first).
struct ServerCore {
  ServerCore(ServerOptions server_options, HttpHandler request_handler, const log::Logger& log)
      : options(std::move(server_options)), handler(std::move(request_handler)), logger(log) {}

  const ServerOptions options;
  const HttpHandler handler;
  const log::Logger& logger;

  // Open connections, counted at accept (before a Connection exists) so the
  // cap holds without a lock; a Connection's destructor gives its slot back.
  std::atomic<std::size_t> connections{0};

  // Registry of live connections, so that stop() can reach the idle ones.
  // Touched once per connection, never per request.
  std::mutex mutex;
  std::condition_variable connections_closed;  // notified when `connections` reaches 0
  bool stopping = false;                       // guarded by mutex
  // `stopping`, readable without the lock: answers carry "Connection: close".
  std::atomic<bool> draining{false};
  std::list<std::weak_ptr<Connection>> live;  // guarded by mutex

  // Gives back a connection slot; wakes stop() when it was the last one.
  void release_slot();
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // `socket` is bound to a strand of the server's io_context; its slot in
  // core.connections has already been taken.
  Connection(Socket socket, ServerCore& core);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Registers the connection and starts reading (closes at once when the
  // server is already stopping).
  void start();
  // For stop(): closes the connection now if it waits for a request, else
  // after the response in progress. Thread-safe (posts to the strand).
  void shut_down_when_idle();
  // For stop() after the drain timeout. Thread-safe.
  void close_now();

 private:
  using Clock = std::chrono::steady_clock;

  void wait_for_request();
  void on_first_bytes(beast::error_code error, std::size_t bytes);
  void read_header();
  void parse_buffered(beast::error_code& error);
  void on_header(beast::error_code error);
  void read_body();
  void on_body(beast::error_code error);
  void on_read_error(beast::error_code error, const char* what);
  void handle_request();
  // Runs the handler; an exception becomes a 500 and an error log line.
  void call_handler();
  void send(bool keep_alive);
  void on_write(beast::error_code error, bool keep_alive);
  // Answers an HTTP-level failure (400, 413) and closes.
  void reject(int status, std::string_view code, std::string_view message);
  // Half-closes and discards what the client still sends for a moment, so
  // that unread input does not turn our close into a reset that destroys the
  // response before the client reads it (nginx's "lingering close").
  void close_gracefully();
  void discard_input();
  // The one place where a connection ends on an error: logs what happened
  // (expected network endings at debug) and closes.
  void fail(beast::error_code error, const char* what);
  void close();
  // Sets the one deadline (see above); none: no deadline.
  void expire_after(std::chrono::milliseconds timeout);
  void clear_deadline() { deadline_ = Clock::time_point::max(); }
  void arm_watchdog(Clock::time_point when);
  void on_watchdog(beast::error_code error);

  ServerCore& core_;
  Socket socket_;
  Timer watchdog_;
  Clock::time_point deadline_ = Clock::time_point::max();
  Clock::time_point watchdog_expiry_ = Clock::time_point::max();  // max: not armed
  bool timed_out_ = false;                                        // the watchdog closed the socket
  beast::flat_buffer buffer_;
  std::optional<beast::http::request_parser<beast::http::string_body>> parser_;
  std::list<std::weak_ptr<Connection>>::iterator registration_;
  bool registered_ = false;
  bool waiting_for_request_ = false;  // idle between requests: stop() may close it
  bool close_after_response_ = false;
  bool closed_ = false;
  Clock::time_point request_started_;
  // Reused across requests so that their buffers keep their capacity.
  HttpRequest request_;
  HttpResponse response_;
  std::string head_;
};

}  // namespace edge::http
