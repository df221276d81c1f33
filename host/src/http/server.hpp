// An HTTP/1.1 server (Boost.Beast over Boost.Asio) that hands every request
// to one HttpHandler. This header includes no Asio: the server is a pimpl.
//
// Threads: the server runs its own io_context on up to `threads` threads. A
// handler runs synchronously on the io thread that read the request, so a
// slow function call occupies one thread for its duration while the other
// threads keep serving; a function's max_in_flight bounds how many threads
// its calls can hold. The server starts with one thread per hardware thread
// and adds threads up to `threads` only while all of its threads are inside
// slow calls (see io_threads.hpp: more threads than cores cost every quick
// request context switches). Each connection's work is serialised on its own
// strand, so its requests are read, handled and answered one at a time, in
// order (which is what makes pipelining safe).
//
// Per connection: a read timeout for each request (from its first byte to its
// last), an idle timeout between keep-alive requests, a body and a header
// limit, and a cap on concurrent connections (beyond it a new connection is
// accepted and closed at once).
#pragma once

#include "http/message.hpp"
#include "log/logger.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace edge::http {

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal
  std::uint16_t port = 8080;          // 0: an ephemeral port (see local_endpoint)
  std::size_t body_limit_bytes = std::size_t{1} << 20;
  std::size_t header_limit_bytes = std::size_t{16} << 10;
  std::chrono::milliseconds read_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds idle_timeout{std::chrono::seconds(60)};
  std::size_t max_connections = 1024;
  unsigned threads = 0;  // at most; 0: max(4, 2 × hardware threads)

  // The most threads the server runs (`threads`, or its default).
  unsigned max_threads() const noexcept;
  // The threads it starts with: one per hardware thread, within max_threads.
  unsigned base_threads() const noexcept;
};

struct Endpoint {
  std::string address;
  std::uint16_t port = 0;

  // "127.0.0.1:8080", "[::1]:8080".
  std::string to_string() const;
};

class HttpServer {
 public:
  // The handler and the logger must outlive the server.
  HttpServer(ServerOptions options, HttpHandler handler, const log::Logger& logger);
  // Stops the server if it runs (waiting for handlers still running).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds, listens and starts the io threads. Throws std::system_error naming
  // the address when it cannot bind. Call once.
  void start();
  // The address actually bound (the real port when options.port was 0).
  Endpoint local_endpoint() const;

  // Stops accepting, closes idle keep-alive connections, lets requests in
  // flight finish and answers them with "Connection: close", waiting at most
  // `drain_timeout` for them; then closes what is left and stops the threads.
  // Returns false when a handler was still running after that (a function
  // call that never returns): its thread is then left behind, and the caller
  // must not destroy what the handler uses; exiting the process is the only
  // safe way out. Thread-safe; calls after the first return at once.
  bool stop(std::chrono::milliseconds drain_timeout);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edge::http
