#include "http/io_threads.hpp"

#include <algorithm>
#include <cassert>

namespace edge::http {
namespace {

// The slot of the io thread running on this thread, if it is one.
thread_local std::atomic<std::int64_t>* current_slot = nullptr;

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

IoThreads::BusyScope::BusyScope() : slot_(current_slot) {
  if (slot_ != nullptr) slot_->store(now_ns(), std::memory_order_relaxed);
}

IoThreads::BusyScope::~BusyScope() {
  if (slot_ != nullptr) slot_->store(0, std::memory_order_relaxed);
}

IoThreads::IoThreads(Options options, std::function<void()> run)
    : options_(options), run_(std::move(run)), slots_(std::make_unique<Slot[]>(options.max)) {
  assert(options_.base >= 1 && options_.base <= options_.max);
}

IoThreads::~IoThreads() {
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  if (watcher_.joinable()) watcher_.join();
  // No lock: the watcher is gone, nothing adds threads any more.
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

void IoThreads::start() {
  const std::lock_guard lock(mutex_);
  while (threads_.size() < options_.base) add_thread();
  if (options_.max > options_.base) watcher_ = std::thread([this] { watch(); });
}

void IoThreads::add_thread() {
  Slot& slot = slots_[threads_.size()];
  threads_.emplace_back([this, &slot] {
    current_slot = &slot.busy_since;
    run_();
    current_slot = nullptr;
    {
      const std::lock_guard lock(mutex_);
      ++returned_;
    }
    changed_.notify_all();
  });
}

void IoThreads::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_ && threads_.size() < options_.max) {
    changed_.wait_for(lock, options_.stuck_after);
    if (stopping_) return;
    const std::int64_t stuck_before =
        now_ns() - std::chrono::nanoseconds(options_.stuck_after).count();
    const bool all_stuck =
        std::all_of(slots_.get(), slots_.get() + threads_.size(), [&](const Slot& slot) {
          const std::int64_t since = slot.busy_since.load(std::memory_order_relaxed);
          return since != 0 && since <= stuck_before;
        });
    if (all_stuck) add_thread();
  }
}

bool IoThreads::join(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  stopping_ = true;
  changed_.notify_all();
  const bool all_returned =
      changed_.wait_for(lock, timeout, [&] { return returned_ == threads_.size(); });
  lock.unlock();
  if (watcher_.joinable()) watcher_.join();
  if (all_returned) {
    for (std::thread& thread : threads_) thread.join();
  }
  return all_returned;
}

unsigned IoThreads::running() const {
  const std::lock_guard lock(mutex_);
  return static_cast<unsigned>(threads_.size()) - returned_;
}

}  // namespace edge::http
