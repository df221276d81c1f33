#include "http/connection.hpp"

#include "http/error_response.hpp"
#include "http/io_threads.hpp"
#include "http/request_id.hpp"
#include "http/request_target.hpp"
#include "http/response_head.hpp"

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <array>
#include <exception>

namespace edge::http {
namespace {

namespace bhttp = boost::beast::http;

// Bytes asked of the kernel per read while waiting for a request: a typical
// request arrives in one read. Larger bodies are read in larger steps by Beast.
constexpr std::size_t kReadSize = 4UL * 1024;
// An idle connection keeps at most this much buffer (after a large request).
constexpr std::size_t kIdleBufferCapacity = 64UL * 1024;
// How long a closing connection keeps reading (and discarding) input.
constexpr std::chrono::milliseconds kLingerTime{2000};

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_http_error(const beast::error_code& error) {
  return error.category() == bhttp::make_error_code(bhttp::error::bad_method).category();
}

// How a connection usually ends: nothing worth more than a debug line.
bool is_normal_ending(const beast::error_code& error) {
  return error == bhttp::error::end_of_stream || error == bhttp::error::partial_message ||
         error == asio::error::eof || error == asio::error::operation_aborted ||
         error == asio::error::connection_reset || error == asio::error::broken_pipe ||
         error == beast::error::timeout;
}

char to_lower_ascii(char character) {
  return character >= 'A' && character <= 'Z' ? static_cast<char>(character - 'A' + 'a')
                                              : character;
}

bool equals_ignoring_case(std::string_view left, std::string_view right) {
  return left.size() == right.size() &&
         std::equal(left.begin(), left.end(), right.begin(),
                    [](char a, char b) { return to_lower_ascii(a) == to_lower_ascii(b); });
}

// Rounded to microseconds: more digits are noise in a log line.
double milliseconds_since(std::chrono::steady_clock::time_point start) {
  const auto elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  return static_cast<double>(elapsed.count()) / 1000.0;
}

}  // namespace

void ServerCore::release_slot() {
  if (connections.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    // The lock orders this notification after stop()'s check of the count.
    const std::lock_guard lock(mutex);
    connections_closed.notify_all();
  }
}

Connection::Connection(Socket socket, ServerCore& core)
    : core_(core), socket_(std::move(socket)), watchdog_(socket_.get_executor()) {}

Connection::~Connection() {
  if (registered_) {
    const std::lock_guard lock(core_.mutex);
    core_.live.erase(registration_);
  }
  core_.release_slot();
}

void Connection::start() {
  {
    const std::lock_guard lock(core_.mutex);
    if (!core_.stopping) {
      registration_ = core_.live.insert(core_.live.end(), weak_from_this());
      registered_ = true;
    }
  }
  if (!registered_) return;  // the socket closes with this object
  asio::dispatch(socket_.get_executor(), [self = shared_from_this()] { self->wait_for_request(); });
}

void Connection::shut_down_when_idle() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->close_after_response_ = true;
    if (self->waiting_for_request_) self->close();
  });
}

void Connection::close_now() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->close(); });
}

// Between requests the client may take its time (the idle timeout); the read
// timeout starts with a request's first byte.
void Connection::wait_for_request() {
  if (close_after_response_) return close();
  if (buffer_.size() != 0) return read_header();  // a pipelined request is already here
  if (buffer_.capacity() > kIdleBufferCapacity) buffer_.shrink_to_fit();
  waiting_for_request_ = true;
  expire_after(core_.options.idle_timeout);
  socket_.async_read_some(buffer_.prepare(kReadSize),
                          [self = shared_from_this()](beast::error_code error, std::size_t bytes) {
                            self->on_first_bytes(error, bytes);
                          });
}

void Connection::on_first_bytes(beast::error_code error, std::size_t bytes) {
  waiting_for_request_ = false;
  if (error) return fail(error, "waiting for a request");
  buffer_.commit(bytes);
  read_header();
}

void Connection::read_header() {
  request_started_ = Clock::now();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(
      std::min<std::size_t>(core_.options.header_limit_bytes, UINT32_MAX)));
  parser_->body_limit(core_.options.body_limit_bytes);
  // One deadline for the whole request: header, body and any 100 Continue.
  expire_after(core_.options.read_timeout);
  beast::error_code error;
  parse_buffered(error);
  if (error) return on_read_error(error, "reading a request header");
  if (parser_->is_header_done()) return on_header({});
  bhttp::async_read_header(socket_, buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code error, std::size_t) {
                             self->on_header(error);
                           });
}

// Beast's async reads would parse these bytes just the same, but complete
// through a post to the io_context; a request of the usual size arrives whole
// in one read, so parsing it here saves that round trip.
void Connection::parse_buffered(beast::error_code& error) {
  while (buffer_.size() != 0 && !parser_->is_done()) {
    const std::size_t used = parser_->put(buffer_.data(), error);
    buffer_.consume(used);
    if (error == bhttp::error::need_more) {
      error = {};
      return;
    }
    if (error || used == 0) return;
  }
}

void Connection::on_header(beast::error_code error) {
  if (!error) parse_buffered(error);  // the part of the body that came with the header
  if (error) return on_read_error(error, "reading a request header");
  if (parser_->is_done()) return handle_request();
  const auto expect = parser_->get().find(bhttp::field::expect);
  if (buffer_.size() == 0 && expect != parser_->get().end() &&
      equals_ignoring_case(std::string_view(expect->value().data(), expect->value().size()),
                           "100-continue")) {
    // curl waits a second for this before sending a body over 1 KiB.
    asio::async_write(socket_, asio::buffer(kContinue.data(), kContinue.size()),
                      [self = shared_from_this()](beast::error_code write_error, std::size_t) {
                        if (write_error) return self->fail(write_error, "writing 100 Continue");
                        self->read_body();
                      });
    return;
  }
  read_body();
}

void Connection::read_body() {
  bhttp::async_read(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_body(error); });
}

void Connection::on_body(beast::error_code error) {
  if (error) return on_read_error(error, "reading a request body");
  handle_request();
}

void Connection::on_read_error(beast::error_code error, const char* what) {
  if (error == bhttp::error::body_limit) {
    return reject(413, error_code::kPayloadTooLarge,
                  "request body larger than the limit of " +
                      std::to_string(core_.options.body_limit_bytes) +
                      " bytes (server.body_limit_bytes)");
  }
  if (error == bhttp::error::header_limit) {
    return reject(400, error_code::kBadRequest,
                  "request header larger than the limit of " +
                      std::to_string(core_.options.header_limit_bytes) + " bytes");
  }
  if (is_http_error(error) && !is_normal_ending(error)) {
    return reject(400, error_code::kBadRequest, "malformed HTTP request: " + error.message());
  }
  fail(error, what);
}

void Connection::handle_request() {
  clear_deadline();  // the handler may take as long as the function's timeout
  auto& message = parser_->get();
  request_.method.assign(message.method_string().data(), message.method_string().size());
  request_.target.assign(message.target().data(), message.target().size());
  request_.path.clear();
  request_.query.clear();
  request_.headers.clear();
  for (const auto& field : message) {
    std::string name(field.name_string().data(), field.name_string().size());
    std::transform(name.begin(), name.end(), name.begin(), to_lower_ascii);
    // A repeated header keeps its first value; none of ours may repeat.
    request_.headers.emplace(std::move(name),
                             std::string(field.value().data(), field.value().size()));
  }
  request_.body = std::move(message.body());
  const std::string* client_id = request_.header("x-request-id");
  request_.request_id = client_id != nullptr && is_acceptable_request_id(*client_id)
                            ? *client_id
                            : generate_request_id();

  std::string target_error;
  std::optional<RequestTarget> target = parse_target(request_.target, target_error);
  if (!target) {
    // A target that is not a path (absolute-form, "*", a bad escape) is
    // malformed for this server: answered and closed like any other.
    response_ = error_response(400, error_code::kBadRequest, target_error);
    return send(false);
  }
  request_.path = std::move(target->path);
  request_.query = std::move(target->query);
  call_handler();
  send(message.keep_alive() && !close_after_response_ &&
       !core_.draining.load(std::memory_order_relaxed));
}

void Connection::call_handler() {
  const auto report_bug = [&](std::string_view what) {
    // The handler promises not to throw: this is a bug, said loudly.
    core_.logger.error("request handler threw", {{"request_id", request_.request_id},
                                                 {"method", request_.method},
                                                 {"path", request_.path},
                                                 {"error", what}});
    response_ = error_response(500, error_code::kInternal,
                               "internal error (request id " + request_.request_id + ")");
  };
  try {
    const IoThreads::BusyScope busy;  // lets the pool add a thread if this call is slow
    response_ = core_.handler(request_);
  } catch (const std::exception& error) {
    report_bug(error.what());
  } catch (...) {
    report_bug("an exception of unknown type");
  }
}

void Connection::send(bool keep_alive) {
  if (core_.logger.enabled(log::Level::Info)) {
    core_.logger.info("request", {{"request_id", request_.request_id},
                                  {"method", request_.method},
                                  {"path", request_.path},
                                  {"status", response_.status},
                                  {"duration_ms", milliseconds_since(request_started_)},
                                  {"function", response_.log_function},
                                  {"node", response_.log_node}});
  }
  const bool http_1_0 = parser_ && parser_->get().version() == 10;
  write_response_head(head_, response_, {request_.request_id, keep_alive, http_1_0});
  // A response to HEAD has no body, whatever Content-Length says.
  const bool head_only = request_.method == "HEAD";
  const std::array<asio::const_buffer, 2> buffers{
      asio::buffer(head_), head_only ? asio::const_buffer() : asio::buffer(response_.body)};
  expire_after(core_.options.read_timeout);
  asio::async_write(socket_, buffers,
                    [self = shared_from_this(), keep_alive](beast::error_code error, std::size_t) {
                      self->on_write(error, keep_alive);
                    });
}

void Connection::on_write(beast::error_code error, bool keep_alive) {
  if (error) return fail(error, "writing a response");
  if (!keep_alive) return close_gracefully();
  wait_for_request();
}

void Connection::reject(int status, std::string_view code, std::string_view message) {
  response_ = error_response(status, code, message);
  request_.method.clear();
  request_.path.clear();
  std::string_view client_id;
  // What is known of the request (nothing when its first line was bad).
  if (parser_ && parser_->is_header_done()) {
    const auto& header = parser_->get();
    request_.method.assign(header.method_string().data(), header.method_string().size());
    const std::string_view target(header.target().data(), header.target().size());
    request_.path.assign(target.substr(0, target.find('?')));
    if (const auto found = header.find("x-request-id"); found != header.end()) {
      client_id = std::string_view(found->value().data(), found->value().size());
    }
  }
  request_.request_id =
      is_acceptable_request_id(client_id) ? std::string(client_id) : generate_request_id();
  send(false);
}

void Connection::close_gracefully() {
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  expire_after(std::min<std::chrono::milliseconds>(core_.options.read_timeout, kLingerTime));
  buffer_.clear();
  discard_input();
}

void Connection::discard_input() {
  socket_.async_read_some(buffer_.prepare(kReadSize),
                          [self = shared_from_this()](beast::error_code error, std::size_t) {
                            if (error) return self->close();  // EOF, as expected, or the deadline
                            self->discard_input();
                          });
}

void Connection::fail(beast::error_code error, const char* what) {
  if (timed_out_) error = beast::error::timeout;  // the watchdog aborted the operation
  if (is_normal_ending(error)) {
    if (core_.logger.enabled(log::Level::Debug)) {
      core_.logger.debug("connection closed", {{"while", what}, {"reason", error.message()}});
    }
  } else {
    core_.logger.warn("connection failed", {{"while", what}, {"error", error.message()}});
  }
  close();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  beast::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  watchdog_.cancel();
}

void Connection::expire_after(std::chrono::milliseconds timeout) {
  deadline_ = Clock::now() + timeout;
  // A later deadline waits for the armed timer to fire and re-arm.
  if (deadline_ < watchdog_expiry_) arm_watchdog(deadline_);
}

void Connection::arm_watchdog(Clock::time_point when) {
  watchdog_expiry_ = when;
  watchdog_.expires_at(when);  // cancels a pending wait, whose handler sees operation_aborted
  watchdog_.async_wait(
      [self = shared_from_this()](beast::error_code error) { self->on_watchdog(error); });
}

void Connection::on_watchdog(beast::error_code error) {
  if (error == asio::error::operation_aborted || closed_) return;  // re-armed or closing
  watchdog_expiry_ = Clock::time_point::max();
  if (deadline_ == Clock::time_point::max()) return;  // a handler runs; the next I/O re-arms
  if (Clock::now() < deadline_) return arm_watchdog(deadline_);
  // Whatever waits for the client fails with operation_aborted and ends in fail().
  timed_out_ = true;
  beast::error_code ignored;
  socket_.cancel(ignored);
}

}  // namespace edge::http
