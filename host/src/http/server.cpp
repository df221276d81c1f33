#include "http/server.hpp"

#include "http/beast.hpp"
#include "http/connection.hpp"
#include "http/io_threads.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <system_error>
#include <thread>
#include <vector>

namespace edge::http {
namespace {

// After an accept error (out of file descriptors, say) the acceptor waits
// this long instead of spinning on the error.
constexpr std::chrono::milliseconds kAcceptRetryDelay{100};
// After the drain timeout, how long the io threads get to return from the
// handlers they are in before stop() gives up on them.
constexpr std::chrono::milliseconds kThreadExitGrace{1000};

tcp::endpoint resolve(const ServerOptions& options) {
  asio::io_context scratch;
  tcp::resolver resolver(scratch);
  boost::system::error_code error;
  const auto results =
      resolver.resolve(options.address, std::to_string(options.port),
                       tcp::resolver::passive | tcp::resolver::numeric_service, error);
  if (error || results.empty()) {
    throw std::system_error(error ? error : std::make_error_code(std::errc::invalid_argument),
                            "cannot resolve the listen address '" + options.address + "'");
  }
  return results.begin()->endpoint();
}

}  // namespace

unsigned ServerOptions::max_threads() const noexcept {
  if (threads != 0) return threads;
  return std::max(4U, 2 * std::thread::hardware_concurrency());
}

unsigned ServerOptions::base_threads() const noexcept {
  return std::clamp(std::thread::hardware_concurrency(), 1U, max_threads());
}

std::string Endpoint::to_string() const {
  const bool ipv6 = address.find(':') != std::string::npos;
  return (ipv6 ? "[" + address + "]" : address) + ":" + std::to_string(port);
}

struct HttpServer::Impl {
  Impl(ServerOptions options, HttpHandler handler, const log::Logger& logger)
      : core(std::move(options), std::move(handler), logger),
        io(static_cast<int>(core.options.max_threads())),
        acceptor(asio::make_strand(io)),
        retry_timer(acceptor.get_executor()),
        work(asio::make_work_guard(io)),
        threads({core.options.base_threads(), core.options.max_threads()},
                [this] { run_thread(); }) {}

  void accept();
  void admit(Socket socket);
  void run_thread();
  // Waits until `done()` or the deadline, on `core.connections_closed`.
  template <typename Done>
  bool wait_until(std::chrono::steady_clock::time_point deadline, Done done);

  // Destroyed in reverse order: the io_context (and the connections its
  // handlers hold) goes before the core they point at.
  ServerCore core;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  Endpoint endpoint;
  // Last: its destructor joins the threads before anything they use goes.
  IoThreads threads;
  bool started = false;
  bool stopped = false;     // guarded by core.mutex
  bool stop_result = true;  // guarded by core.mutex
};

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code error, Socket socket) {
    if (error == asio::error::operation_aborted || !acceptor.is_open()) return;
    if (error) {
      core.logger.warn("cannot accept a connection",
                       {{"error", error.message()}, {"retry_in_ms", kAcceptRetryDelay.count()}});
      retry_timer.expires_after(kAcceptRetryDelay);
      retry_timer.async_wait([this](beast::error_code wait_error) {
        if (!wait_error) accept();
      });
      return;
    }
    admit(std::move(socket));
    accept();
  });
}

void HttpServer::Impl::admit(Socket socket) {
  const std::size_t open = core.connections.fetch_add(1, std::memory_order_acq_rel);
  if (open >= core.options.max_connections) {
    core.release_slot();
    if (core.logger.enabled(log::Level::Debug)) {
      core.logger.debug("connection refused: at the limit",
                        {{"max_connections", core.options.max_connections}});
    }
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  beast::error_code ignored;
  // Responses are written whole; waiting to coalesce them only adds latency.
  socket.set_option(tcp::no_delay(true), ignored);
  std::make_shared<Connection>(std::move(socket), core)->start();
}

void HttpServer::Impl::run_thread() {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& error) {
      // Handlers catch their own exceptions; this is a bug, kept from
      // taking the whole process down.
      core.logger.error("io thread caught an exception", {{"error", error.what()}});
    }
  }
}

template <typename Done>
bool HttpServer::Impl::wait_until(std::chrono::steady_clock::time_point deadline, Done done) {
  std::unique_lock lock(core.mutex);
  return core.connections_closed.wait_until(lock, deadline, done);
}

HttpServer::HttpServer(ServerOptions options, HttpHandler handler, const log::Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(handler), logger)) {}

HttpServer::~HttpServer() {
  // Threads stop() gave up on are still in a handler: Impl's destructor
  // waits for them, since the connections they use are about to go.
  if (impl_->started) stop(std::chrono::milliseconds(0));
}

void HttpServer::start() {
  Impl& impl = *impl_;
  if (impl.started) throw std::logic_error("HttpServer::start called twice");
  const tcp::endpoint wanted = resolve(impl.core.options);
  const std::string where = Endpoint{wanted.address().to_string(), wanted.port()}.to_string();
  beast::error_code error;
  const auto check = [&](const char* what) {
    if (error) throw std::system_error(error, "cannot " + std::string(what) + " " + where);
  };
  impl.acceptor.open(wanted.protocol(), error);
  check("open a socket for");
  impl.acceptor.set_option(asio::socket_base::reuse_address(true), error);
  check("set SO_REUSEADDR on");
  impl.acceptor.bind(wanted, error);
  check("listen on");
  impl.acceptor.listen(asio::socket_base::max_listen_connections, error);
  check("listen on");
  const tcp::endpoint bound = impl.acceptor.local_endpoint();
  impl.endpoint = {bound.address().to_string(), bound.port()};

  impl.started = true;
  impl.accept();
  impl.threads.start();
}

Endpoint HttpServer::local_endpoint() const { return impl_->endpoint; }

bool HttpServer::stop(std::chrono::milliseconds drain_timeout) {
  Impl& impl = *impl_;
  const auto deadline = std::chrono::steady_clock::now() + drain_timeout;
  std::vector<std::weak_ptr<Connection>> live;
  {
    const std::lock_guard lock(impl.core.mutex);
    if (impl.stopped || !impl.started) return impl.stop_result;
    impl.stopped = true;
    impl.core.stopping = true;
    impl.core.draining.store(true, std::memory_order_relaxed);
    live.assign(impl.core.live.begin(), impl.core.live.end());
  }
  asio::post(impl.acceptor.get_executor(), [&impl] {
    beast::error_code ignored;
    impl.acceptor.close(ignored);
    impl.retry_timer.cancel();
  });
  for (const std::weak_ptr<Connection>& weak : live) {
    if (const std::shared_ptr<Connection> connection = weak.lock())
      connection->shut_down_when_idle();
  }
  const bool drained = impl.wait_until(
      deadline, [&] { return impl.core.connections.load(std::memory_order_acquire) == 0; });
  if (!drained) {
    std::vector<std::weak_ptr<Connection>> remaining;
    {
      const std::lock_guard lock(impl.core.mutex);
      remaining.assign(impl.core.live.begin(), impl.core.live.end());
    }
    impl.core.logger.warn(
        "drain timeout: closing connections still open",
        {{"connections", remaining.size()}, {"drain_timeout_ms", drain_timeout.count()}});
    for (const std::weak_ptr<Connection>& weak : remaining) {
      if (const std::shared_ptr<Connection> connection = weak.lock()) connection->close_now();
    }
  }
  impl.work.reset();
  impl.io.stop();
  const bool threads_done = impl.threads.join(kThreadExitGrace);
  {
    const std::lock_guard lock(impl.core.mutex);
    impl.stop_result = threads_done;
  }
  if (!threads_done) {
    impl.core.logger.error("handlers still running after the drain timeout",
                           {{"threads", impl.threads.running()}});
  }
  return threads_done;
}

}  // namespace edge::http
