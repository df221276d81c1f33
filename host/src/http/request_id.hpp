// X-Request-Id: the client's, when it is safe to echo into a header and a
// log line, else a fresh random one.
#pragma once

#include <string>
#include <string_view>

namespace edge::http {

inline constexpr std::size_t kMaxRequestIdLength = 128;

// 1 to 128 characters of printable ASCII (space to '~'): nothing that could
// split a header or a log line.
bool is_acceptable_request_id(std::string_view id) noexcept;

// 16 lowercase hex digits from a per-thread generator (no lock, no system
// call after a thread's first id). Unique enough to correlate logs, not a
// secret.
std::string generate_request_id();

}  // namespace edge::http
