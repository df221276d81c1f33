// A subscription's lifetime: subscribed while the object lives.
//
// OWNERSHIP: Subscription owns the libnats subscription and the handler. Its
// destructor unsubscribes and then waits until libnats confirms that the
// handler has returned for the last time (natsSubscription_SetOnCompleteCB),
// so once it returns the handler is never called again and whatever the
// handler captured may be destroyed. The one exception: destroyed from inside
// its own handler, it cannot wait for itself; the handler must then not touch
// anything it captured after the Subscription is gone (libnats delivers
// nothing more after that call returns).
#pragma once

#include <functional>
#include <string_view>

namespace edge::nats {

// What a handler receives. The views are valid only during the call.
struct Message {
  std::string_view subject;
  std::string_view reply_subject;  // empty when the sender expects no reply
  std::string_view payload;
};

// Called on a libnats delivery thread (one per subscription), one message at
// a time, in the order the server delivered them. It must not throw: an
// exception is caught and dropped (libnats is C and cannot carry it).
using MessageHandler = std::function<void(const Message&)>;

class Subscription {
 public:
  // Shared with the libnats callbacks; defined in subscription.cpp, made by
  // NatsClient::subscribe (through open_subscription, native.hpp).
  struct State;

  Subscription() noexcept = default;
  explicit Subscription(State* state) noexcept : state_(state) {}
  ~Subscription() { reset(); }
  Subscription(Subscription&& other) noexcept;
  Subscription& operator=(Subscription&& other) noexcept;
  Subscription(const Subscription&) = delete;
  Subscription& operator=(const Subscription&) = delete;

  // Unsubscribes now (what the destructor does); idempotent.
  void reset() noexcept;
  bool active() const noexcept { return state_ != nullptr; }

 private:
  // OWNERSHIP: owned, except after a reset() from inside the handler, when
  // libnats' completion callback frees it.
  State* state_ = nullptr;
};

}  // namespace edge::nats
