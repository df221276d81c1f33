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

// How long one kvWatcher_Next waits before the thread looks whether the
// watcher is being destroyed: what a destructor may have to wait.
//
// Why not kvWatcher_Stop, which wakes kvWatcher_Next at once: in libnats
// 3.4.1 it unsubscribes and deletes the watcher's ordered consumer, and
// jsSub_deleteConsumer uses the consumer's name after releasing the
// subscription's lock, while the thread that re-creates an ordered consumer
// after a reconnect frees that name (ASan caught the use after free in
// kv_bucket_test's restart case). kvWatcher_Destroy alone only unsubscribes
// (libnats does not delete the consumer then; the server drops the ephemeral
// consumer once nobody listens).
constexpr int64_t kNextTimeoutMilliseconds = 50;

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
  while (!stopping.load(std::memory_order_acquire)) {
    kvEntry* entry = nullptr;
    const natsStatus status = kvWatcher_Next(&entry, watcher, kNextTimeoutMilliseconds);
    if (status == NATS_TIMEOUT) continue;
    if (status != NATS_OK) {
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

KvWatcher::~KvWatcher() {
  if (!state_) return;
  // Not kvWatcher_Stop: see kNextTimeoutMilliseconds.
  state_->stopping.store(true, std::memory_order_release);
  if (state_->thread.joinable()) state_->thread.join();
  kvWatcher_Destroy(state_->watcher);
}

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
