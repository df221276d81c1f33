#include "nats/subscription.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "nats/native.hpp"
#include "nats/nats_status.hpp"

namespace edge::nats {

struct Subscription::State {
  MessageHandler handler;
  natsSubscription* subscription = nullptr;  // set once, before anyone reads it

  std::mutex mutex;
  std::condition_variable completion;
  bool completed = false;  // guarded by mutex: libnats will not call the handler again
  bool orphaned = false;   // guarded by mutex: reset() from the handler; on_complete frees
};

namespace {

// The subscription whose handler runs on this thread, so that reset() can
// tell that it is called from inside that handler (waiting there for the
// handler to return would wait forever).
thread_local const Subscription::State* delivering = nullptr;

void on_message(natsConnection* /*connection*/, natsSubscription* /*subscription*/,
                natsMsg* message, void* closure) {
  auto* state = static_cast<Subscription::State*>(closure);
  const char* reply = natsMsg_GetReply(message);
  const Message view{natsMsg_GetSubject(message), reply != nullptr ? reply : "",
                     std::string_view(natsMsg_GetData(message),
                                      static_cast<std::size_t>(natsMsg_GetDataLength(message)))};
  const Subscription::State* outer = std::exchange(delivering, state);
  try {
    state->handler(view);
  } catch (...) {
    // Documented: a handler must not throw; there is nobody to tell in a C
    // callback, and unwinding through libnats' thread would abort.
  }
  // `state` may now be orphaned (reset from the handler): on_complete, which
  // frees it, runs only after this function returns, on this thread.
  delivering = outer;
  natsMsg_Destroy(message);
}

// libnats: the subscription is closed and the handler has returned for the
// last time. Runs on the subscription's delivery thread.
void on_complete(void* closure) {
  auto* state = static_cast<Subscription::State*>(closure);
  std::unique_lock lock(state->mutex);
  state->completed = true;
  if (state->orphaned) {
    lock.unlock();
    delete state;  // see Subscription::state_
    return;
  }
  // Notified under the lock: the waiter frees `state` as soon as it sees
  // `completed`, so nothing may touch it after the lock is released.
  state->completion.notify_all();
}

}  // namespace

Subscription::Subscription(Subscription&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}

Subscription& Subscription::operator=(Subscription&& other) noexcept {
  if (this != &other) {
    reset();
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}

void Subscription::reset() noexcept {
  State* state = std::exchange(state_, nullptr);
  if (state == nullptr) return;
  // Fails only if the subscription is already closed (its connection was
  // closed): on_complete runs (or ran) either way.
  natsSubscription_Unsubscribe(state->subscription);
  natsSubscription_Destroy(state->subscription);
  std::unique_lock lock(state->mutex);
  if (delivering == state) {
    state->orphaned = true;  // its handler is on this very stack
    return;
  }
  state->completion.wait(lock, [&] { return state->completed; });
  lock.unlock();
  delete state;
}

Subscription open_subscription(natsConnection* connection, std::string_view subject,
                               std::string_view queue, MessageHandler handler) {
  auto state = std::make_unique<Subscription::State>();
  state->handler = std::move(handler);
  const std::string subject_text(subject);
  const std::string queue_text(queue);
  natsSubscription* subscription = nullptr;
  const natsStatus status =
      queue.empty() ? natsConnection_Subscribe(&subscription, connection, subject_text.c_str(),
                                               on_message, state.get())
                    : natsConnection_QueueSubscribe(&subscription, connection, subject_text.c_str(),
                                                    queue_text.c_str(), on_message, state.get());
  const auto where = [&] {
    return "cannot subscribe to \"" + subject_text + "\"" +
           (queue.empty() ? std::string() : " in queue group \"" + queue_text + "\"");
  };
  if (status != NATS_OK) throw_status(status, where());
  state->subscription = subscription;
  const natsStatus completion_status =
      natsSubscription_SetOnCompleteCB(subscription, on_complete, state.get());
  if (completion_status != NATS_OK) {
    // The subscription closed already (its connection closed meanwhile), and
    // without the completion callback nobody can tell when its handler
    // returned for the last time: leak the state rather than free it under
    // a running handler.
    const std::string description = describe_status(completion_status);
    natsSubscription_Destroy(subscription);
    (void)state.release();
    throw NatsError(where() + ": " + description);
  }
  return Subscription(state.release());
}

}  // namespace edge::nats
