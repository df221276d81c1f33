// Turns a failed libnats call into a NatsError (internal: includes nats.h, so
// only the transport's .cpp files include it).
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

namespace edge::nats {

// "<status text>" plus libnats' last error text for this thread when it says
// more ("No server available for connection (conn.c:2088: ...)"). Call it
// right after the failing call: the last error is per thread and is not
// cleared by later successful calls.
std::string describe_status(natsStatus status);

// Throws the NatsError subtype for `status`, with "<what>: <description>".
// NATS_TIMEOUT becomes NatsTimeoutError, NATS_NO_RESPONDERS
// NatsNoRespondersError, anything else NatsError.
[[noreturn]] void throw_status(natsStatus status, std::string_view what);

// Throws unless `status` is NATS_OK.
inline void check_status(natsStatus status, std::string_view what) {
  if (status != NATS_OK) throw_status(status, what);
}

}  // namespace edge::nats
