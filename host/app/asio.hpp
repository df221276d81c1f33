// The one place edge-host includes Boost.Asio; every file of the app that
// needs Asio includes this header instead of <boost/asio/...>.
//
// Boost 1.74's Asio does not compile with -std=c++20 on g++ 12
// (awaitable.hpp uses std::exchange without including <utility>), so
// <utility> must come before any Asio header.
#pragma once

#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
