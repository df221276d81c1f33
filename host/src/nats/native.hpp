// The transport's internals that need libnats' types (internal: includes
// nats.h; only the transport's .cpp files include it).
#pragma once

#include <nats/nats.h>

#include <string>
#include <string_view>

#include "nats/nats_client.hpp"
#include "nats/subscription.hpp"

namespace edge::nats {

// libnats' connection behind a NatsClient, for the units built on it
// (KeyValueBucket). Valid while the client lives.
natsConnection* native_connection(const NatsClient& client) noexcept;

// The options the client was made with (to open a sibling connection).
const NatsClientOptions& options_of(const NatsClient& client) noexcept;

// Subscribes `handler` to `subject` (in queue group `queue` unless empty).
// Throws NatsError naming the subject.
Subscription open_subscription(natsConnection* connection, std::string_view subject,
                               std::string_view queue, MessageHandler handler);

}  // namespace edge::nats
