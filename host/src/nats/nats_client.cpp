#include "nats/nats_client.hpp"

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "nats/native.hpp"
#include "nats/nats_status.hpp"

namespace edge::nats {

struct NatsClient::Impl {
  NatsClientOptions options;  // the user's callbacks live here
  natsConnection* connection = nullptr;

  // Set first thing in the destructor: from then on the user's callbacks
  // are skipped (what they capture may already be half destroyed).
  std::atomic<bool> destroying{false};

  std::mutex mutex;
  std::condition_variable closed_changed;
  bool closed = false;  // guarded by mutex: libnats ran the closed callback
};

// The one way into NatsClient's internals (native_connection).
struct ClientAccess {
  static natsConnection* connection(const NatsClient& client) noexcept {
    return client.impl_->connection;
  }
  static const NatsClientOptions& options(const NatsClient& client) noexcept {
    return client.impl_->options;
  }
};

natsConnection* native_connection(const NatsClient& client) noexcept {
  return ClientAccess::connection(client);
}

const NatsClientOptions& options_of(const NatsClient& client) noexcept {
  return ClientAccess::options(client);
}

namespace {

// Owns a natsOptions while the connection is being made (libnats copies it).
struct OptionsHandle {
  OptionsHandle() { check_status(natsOptions_Create(&options), "cannot create NATS options"); }
  ~OptionsHandle() { natsOptions_Destroy(options); }
  OptionsHandle(const OptionsHandle&) = delete;
  OptionsHandle& operator=(const OptionsHandle&) = delete;
  natsOptions* options = nullptr;
};

void call_user(const NatsClient::Impl& impl, const std::function<void()>& callback) {
  if (!callback || impl.destroying.load(std::memory_order_acquire)) return;
  try {
    callback();
  } catch (...) {
    // A C callback has nobody to report to; documented as must-not-throw.
  }
}

// libnats' connection callbacks run on its connection-event thread, one at a
// time, in the order the events happened.
void on_disconnected(natsConnection* /*connection*/, void* closure) {
  const auto* impl = static_cast<NatsClient::Impl*>(closure);
  call_user(*impl, impl->options.on_disconnected);
}

void on_reconnected(natsConnection* /*connection*/, void* closure) {
  const auto* impl = static_cast<NatsClient::Impl*>(closure);
  call_user(*impl, impl->options.on_reconnected);
}

// The last callback libnats makes for a connection: once it has run, the
// destructor may free the Impl it points to.
void on_closed(natsConnection* /*connection*/, void* closure) {
  auto* impl = static_cast<NatsClient::Impl*>(closure);
  call_user(*impl, impl->options.on_closed);
  const std::lock_guard lock(impl->mutex);
  impl->closed = true;
  impl->closed_changed.notify_all();  // under the lock: see ~NatsClient
}

int64_t milliseconds(std::chrono::milliseconds duration) {
  return static_cast<int64_t>(duration.count());
}

}  // namespace

NatsClient::NatsClient(NatsClientOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  const NatsClientOptions& settings = impl_->options;
  const std::string where = "NATS server " + settings.url;

  OptionsHandle handle;
  natsOptions* native = handle.options;
  // natsOptions_SetURL splits a comma-separated list itself.
  check_status(natsOptions_SetURL(native, settings.url.c_str()), "invalid URL for " + where);
  if (!settings.name.empty()) {
    check_status(natsOptions_SetName(native, settings.name.c_str()), "cannot set the name");
  }
  check_status(natsOptions_SetTimeout(native, milliseconds(settings.connect_timeout)),
               "cannot set the connect timeout");
  check_status(natsOptions_SetReconnectWait(native, milliseconds(settings.reconnect_wait)),
               "cannot set the reconnect wait");
  const int64_t jitter = milliseconds(settings.reconnect_jitter);
  check_status(natsOptions_SetReconnectJitter(native, jitter, jitter),
               "cannot set the reconnect jitter");
  check_status(natsOptions_SetMaxReconnect(native, settings.max_reconnect_attempts),
               "cannot set the reconnect attempts");
  check_status(natsOptions_SetReconnectBufSize(native, settings.reconnect_buffer_bytes),
               "cannot set the reconnect buffer");
  check_status(natsOptions_SetSendAsap(native, settings.send_immediately),
               "cannot set send-immediately");
  Impl* closure = impl_.get();
  check_status(natsOptions_SetDisconnectedCB(native, on_disconnected, closure),
               "cannot set the disconnected callback");
  check_status(natsOptions_SetReconnectedCB(native, on_reconnected, closure),
               "cannot set the reconnected callback");
  check_status(natsOptions_SetClosedCB(native, on_closed, closure),
               "cannot set the closed callback");

  // A failed connect makes no callback (libnats releases the connection
  // without closing it), so the Impl may go with the exception.
  const natsStatus status = natsConnection_Connect(&impl_->connection, native);
  if (status != NATS_OK) {
    throw NatsConnectionError("cannot connect to " + where + ": " + describe_status(status));
  }
}

NatsClient::~NatsClient() {
  Impl& impl = *impl_;
  impl.destroying.store(true, std::memory_order_release);
  natsConnection_Close(impl.connection);
  {
    // The closed callback comes from libnats' event thread after every
    // earlier event of this connection: once it ran, none can follow.
    std::unique_lock lock(impl.mutex);
    impl.closed_changed.wait(lock, [&] { return impl.closed; });
  }
  natsConnection_Destroy(impl.connection);
}

void NatsClient::publish(std::string_view subject, std::string_view payload) {
  const std::string subject_text(subject);
  check_status(natsConnection_Publish(impl_->connection, subject_text.c_str(), payload.data(),
                                      static_cast<int>(payload.size())),
               "cannot publish to \"" + subject_text + "\" on " + impl_->options.url);
}

void NatsClient::respond(std::string_view reply_subject, std::string_view payload) {
  if (reply_subject.empty()) {
    throw NatsError("cannot respond: the message has no reply subject");
  }
  publish(reply_subject, payload);
}

Subscription NatsClient::subscribe(std::string_view subject, MessageHandler handler) {
  return open_subscription(impl_->connection, subject, {}, std::move(handler));
}

Subscription NatsClient::queue_subscribe(std::string_view subject, std::string_view queue,
                                         MessageHandler handler) {
  if (queue.empty())
    throw NatsError("cannot subscribe to \"" + std::string(subject) + "\": empty queue group");
  return open_subscription(impl_->connection, subject, queue, std::move(handler));
}

std::string NatsClient::request(std::string_view subject, std::string_view payload,
                                std::chrono::milliseconds timeout) {
  const std::string subject_text(subject);
  natsMsg* reply = nullptr;
  const natsStatus status =
      natsConnection_Request(&reply, impl_->connection, subject_text.c_str(), payload.data(),
                             static_cast<int>(payload.size()), milliseconds(timeout));
  if (status == NATS_TIMEOUT) {
    throw NatsTimeoutError("request to \"" + subject_text + "\" on " + impl_->options.url +
                           ": no reply within " + std::to_string(timeout.count()) + " ms");
  }
  if (status == NATS_NO_RESPONDERS) {
    throw NatsNoRespondersError("request to \"" + subject_text + "\" on " + impl_->options.url +
                                ": no responders (nobody subscribes to the subject)");
  }
  check_status(status, "request to \"" + subject_text + "\" on " + impl_->options.url);
  std::string bytes(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)));
  natsMsg_Destroy(reply);
  return bytes;
}

void NatsClient::flush(std::chrono::milliseconds timeout) {
  const natsStatus status = natsConnection_FlushTimeout(impl_->connection, milliseconds(timeout));
  if (status == NATS_TIMEOUT) {
    throw NatsTimeoutError("flush to " + impl_->options.url + ": no answer within " +
                           std::to_string(timeout.count()) + " ms");
  }
  check_status(status, "flush to " + impl_->options.url);
}

void NatsClient::close() noexcept { natsConnection_Close(impl_->connection); }

bool NatsClient::connected() const noexcept {
  return natsConnection_Status(impl_->connection) == NATS_CONN_STATUS_CONNECTED;
}

std::int64_t NatsClient::max_payload() const noexcept {
  return natsConnection_GetMaxPayload(impl_->connection);
}

const std::string& NatsClient::url() const noexcept { return impl_->options.url; }

}  // namespace edge::nats
