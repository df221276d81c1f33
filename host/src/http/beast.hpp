// The one header through which the HTTP server's .cpp files include Boost.Beast
// and Boost.Asio. Never include it from a header outside host/src/http: those
// headers are heavy, and the rest of the host compiles without them.
//
// Boost 1.74's Asio does not compile with -std=c++20 on g++ 12
// (awaitable.hpp uses std::exchange without including <utility>), so
// <utility> must come before any Asio or Beast header.
#pragma once

#include <utility>

#include <chrono>

#include <boost/asio/basic_waitable_timer.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>

namespace edge::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

// Concrete executor types rather than Asio's type-erased any_io_executor:
// on the request path the erasure costs more than the rest of Asio's work.
using Strand = asio::strand<asio::io_context::executor_type>;
using Socket = tcp::socket::rebind_executor<Strand>::other;
using Timer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                         asio::wait_traits<std::chrono::steady_clock>, Strand>;

}  // namespace edge::http
