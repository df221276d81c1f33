#include "nats/kv_watcher.hpp"

#include <nats/nats.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>

#include "nats/kv_watcher_state.hpp"
#include "nats/nats_status.hpp"

namespace edge::nats {
namespace {

// How long one kvWatcher_Next waits; closing the connection wakes it at
// once, so this only bounds how often an idle watcher's thread wakes up.
constexpr int64_t kNextTimeoutMilliseconds = 60'000;

void deliver(KvWatcher::State& state, kvEntry* entry) {
  const kvOperation operation = kvEntry_Operation(entry);
  const bool deleted = operation == kvOp_Delete || operation == kvOp_Purge;
  const char* key = kvEntry_Key(entry);
  const auto* value = static_cast<const char*>(kvEntry_Value(entry));
  const KvChange change{
      key != nullptr ? key : "",
      deleted || value == nullptr
          ? std::string_view()
          : std::string_view(value, static_cast<std::size_t>(kvEntry_ValueLen(entry))),
      kvEntry_Revision(entry), deleted};
  try {
    state.handler(change);
  } catch (...) {
    // Documented: a handler must not throw; nobody could catch it here.
  }
}

}  // namespace

void KvWatcher::State::run() {
  for (;;) {
    kvEntry* entry = nullptr;
    const natsStatus status = kvWatcher_Next(&entry, watcher, kNextTimeoutMilliseconds);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
      if (stopping.load(std::memory_order_acquire)) return;  // stop() closed the connection
      const std::string reason = describe_status(status);
      const std::lock_guard lock(mutex);
      failure = "watch of " + description + " ended: " + reason;
      return;
    }
    if (entry == nullptr) {
      // libnats' marker: every initial value has been returned.
      const std::lock_guard lock(mutex);
      replayed = true;
      replayed_changed.notify_all();
      continue;
    }
    deliver(*this, entry);
    kvEntry_Destroy(entry);
  }
}

void KvWatcher::State::stop() noexcept {
  stopping.store(true, std::memory_order_release);
  if (connection) connection->close();  // ends the subscription, wakes kvWatcher_Next
  if (thread.joinable()) thread.join();
  // Not before the close: see the comment on State.
  if (watcher != nullptr) kvWatcher_Destroy(std::exchange(watcher, nullptr));
  if (store != nullptr) kvStore_Destroy(std::exchange(store, nullptr));
  if (jetstream != nullptr) jsCtx_Destroy(std::exchange(jetstream, nullptr));
  connection.reset();
}

KvWatcher::State::~State() { stop(); }

KvWatcher::KvWatcher() noexcept = default;

KvWatcher::KvWatcher(std::unique_ptr<State> state) noexcept : state_(std::move(state)) {}

KvWatcher::KvWatcher(KvWatcher&& other) noexcept = default;

KvWatcher& KvWatcher::operator=(KvWatcher&& other) noexcept {
  if (this != &other) {
    KvWatcher discarded(std::move(*this));
    state_ = std::move(other.state_);
  }
  return *this;
}

KvWatcher::~KvWatcher() = default;  // State's destructor stops the watch

bool KvWatcher::replayed() const noexcept {
  if (!state_) return false;
  const std::lock_guard lock(state_->mutex);
  return state_->replayed;
}

bool KvWatcher::wait_until_replayed(std::chrono::milliseconds timeout) const {
  if (!state_) return false;
  std::unique_lock lock(state_->mutex);
  return state_->replayed_changed.wait_for(lock, timeout, [&] { return state_->replayed; });
}

std::string KvWatcher::failure() const {
  if (!state_) return {};
  const std::lock_guard lock(state_->mutex);
  return state_->failure;
}

}  // namespace edge::nats
