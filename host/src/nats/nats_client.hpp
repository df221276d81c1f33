// A connection to a NATS server (or a cluster of them): publish, subscribe,
// request/reply. The transport the cluster's heartbeats, invocation routing
// and desired state stand on.
//
// Thread-safety: every method may be called from any thread, concurrently
// (libnats serialises writes to the socket). The connection-event callbacks
// and the subscription handlers run on libnats' threads, never on the caller's.
// Do not destroy a NatsClient from one of its own connection callbacks: its
// destructor waits for libnats' last callback, which would wait behind it.
//
// OWNERSHIP: NatsClient owns the libnats connection. Destroy the
// Subscriptions and KeyValueBuckets made from it first where convenient; a
// Subscription that outlives its client is still safe to destroy (it is
// already closed).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "nats/nats_error.hpp"
#include "nats/subscription.hpp"

namespace edge::nats {

struct NatsClientOptions {
  // One URL, or a comma-separated list tried in turn ("nats://a:4222,nats://b:4222").
  std::string url = "nats://127.0.0.1:4222";
  // Shown by the server in its connection list (monitoring, logs).
  std::string name;
  // Bound on establishing each TCP connection and the NATS handshake.
  std::chrono::milliseconds connect_timeout{2000};

  // After losing the connection the client reconnects, trying every URL; once
  // all failed it waits reconnect_wait plus a random delay in
  // [0, reconnect_jitter] before the next round. The jitter spreads a fleet's
  // reconnects: a thousand hosts must not hit a restarted server at the same
  // instant.
  std::chrono::milliseconds reconnect_wait{2000};
  std::chrono::milliseconds reconnect_jitter{500};
  // -1: reconnect forever (the default: a host never gives up on its server).
  int max_reconnect_attempts = -1;
  // Bytes published while disconnected are kept up to this size and sent
  // after the reconnect; beyond it publish throws.
  int reconnect_buffer_bytes = 8 << 20;

  // Sends each publish (and reply) at once. When false, libnats batches
  // publishes: its flusher thread sleeps 1 ms before it writes, which adds up
  // to a millisecond to every reply (a request/reply p50 of ~1 ms instead of
  // tens of microseconds on loopback), for more throughput on connections
  // that publish a lot. Requests are always sent at once.
  bool send_immediately = true;

  // Connection events, called on libnats' connection-event thread (one
  // thread for every connection of the process, so keep them short and never
  // block in them). They are not called once the NatsClient's destructor has
  // started; on_closed therefore reports only a connection libnats closed on
  // its own (max_reconnect_attempts exhausted).
  std::function<void()> on_disconnected;
  std::function<void()> on_reconnected;
  std::function<void()> on_closed;
};

class NatsClient {
 public:
  // Connects to one of the servers, or throws NatsConnectionError naming the URLs.
  explicit NatsClient(NatsClientOptions options);
  ~NatsClient();
  NatsClient(const NatsClient&) = delete;
  NatsClient& operator=(const NatsClient&) = delete;
  NatsClient(NatsClient&&) = delete;
  NatsClient& operator=(NatsClient&&) = delete;

  // Sends `payload` to everyone subscribed to `subject`. Buffered: flush()
  // waits until the server has it. While reconnecting, buffered up to
  // reconnect_buffer_bytes.
  void publish(std::string_view subject, std::string_view payload);
  // Answers a request: publishes to the request's reply subject.
  void respond(std::string_view reply_subject, std::string_view payload);

  // Calls `handler` for every message on `subject` (wildcards allowed).
  [[nodiscard]] Subscription subscribe(std::string_view subject, MessageHandler handler);
  // The same, in a queue group: each message goes to one member of `queue`.
  [[nodiscard]] Subscription queue_subscribe(std::string_view subject, std::string_view queue,
                                             MessageHandler handler);

  // Sends a request and waits for the first reply's payload. Every request
  // shares one reply subscription (libnats' response multiplexer), so a
  // request costs no SUB/UNSUB round trip. Throws NatsNoRespondersError when
  // nobody subscribes to `subject`, NatsTimeoutError after `timeout`.
  std::string request(std::string_view subject, std::string_view payload,
                      std::chrono::milliseconds timeout);

  // Waits until the server has processed everything sent so far (a PING/PONG
  // round trip). Throws NatsTimeoutError after `timeout`.
  void flush(std::chrono::milliseconds timeout);

  // Closes the connection now (on_closed fires); idempotent. Every later call
  // fails; subscriptions end without unsubscribing (the server forgets them
  // with the connection).
  void close() noexcept;

  // Connected right now (false while reconnecting).
  bool connected() const noexcept;
  // The largest payload the server accepts (its max_payload, 1 MiB by default).
  std::int64_t max_payload() const noexcept;
  // The configured URLs, for messages.
  const std::string& url() const noexcept;

  struct Impl;  // nats_client.cpp; reachable through native.hpp

 private:
  friend struct ClientAccess;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edge::nats
