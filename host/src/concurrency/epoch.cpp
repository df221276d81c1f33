#include "concurrency/epoch.hpp"

#include <algorithm>
#include <cassert>
#include <chrono>
#include <limits>
#include <thread>

namespace edge::concurrency {

EpochDomain& EpochDomain::global() {
  static EpochDomain* const domain = new EpochDomain();  // intentionally never destroyed
  return *domain;
}

EpochDomain::ReaderSlot& EpochDomain::acquire_slot() {
  for (ReaderSlot* slot = slots_.load(std::memory_order_acquire); slot != nullptr;
       slot = slot->next) {
    bool expected = false;
    if (!slot->in_use.load(std::memory_order_relaxed) &&
        slot->in_use.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      return *slot;
    }
  }
  // Slots live as long as the domain: a thread that exits hands its slot on.
  auto* slot = new ReaderSlot();
  slot->in_use.store(true, std::memory_order_relaxed);
  ReaderSlot* head = slots_.load(std::memory_order_relaxed);
  do {
    slot->next = head;
  } while (!slots_.compare_exchange_weak(head, slot, std::memory_order_release,
                                         std::memory_order_relaxed));
  return *slot;
}

void EpochDomain::release_slot(ReaderSlot& slot) noexcept {
  assert(slot.epoch.load() == 0 && "thread exits inside an EpochGuard");
  slot.in_use.store(false, std::memory_order_release);
}

void EpochDomain::retire_erased(void* object, void (*destroy)(void*)) {
  // Everything unpublished before this increment is invisible to readers
  // that enter afterwards (they read the new epoch with acquire).
  const std::uint64_t epoch = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
  std::lock_guard lock(retired_mutex_);
  retired_.push_back({epoch, object, destroy});
}

std::uint64_t EpochDomain::oldest_reader_epoch() const noexcept {
  full_fence();
  std::uint64_t oldest = std::numeric_limits<std::uint64_t>::max();
  for (const ReaderSlot* slot = slots_.load(std::memory_order_acquire); slot != nullptr;
       slot = slot->next) {
    const std::uint64_t epoch = slot->epoch.load(std::memory_order_seq_cst);
    if (epoch != 0) oldest = std::min(oldest, epoch);
  }
  return oldest;
}

std::size_t EpochDomain::reclaim() {
  std::vector<Retired> ready;
  {
    std::lock_guard lock(retired_mutex_);
    if (retired_.empty()) return 0;
    // A reader that entered at epoch e may hold objects retired at epochs > e
    // only: objects retired at epoch <= e were unpublished before it entered.
    const std::uint64_t oldest = oldest_reader_epoch();
    const auto split = std::stable_partition(retired_.begin(), retired_.end(),
                                             [&](const Retired& r) { return r.epoch > oldest; });
    ready.assign(split, retired_.end());
    retired_.erase(split, retired_.end());
  }
  // Destructors run without the lock: they may retire more objects. (`ready`
  // is a copy, not a view of retired_.)
  // cppcheck-suppress invalidContainer
  for (const Retired& item : ready) item.destroy(item.object);
  return ready.size();
}

void EpochDomain::synchronize() {
  assert(!EpochGuard::active() && "synchronize() inside an EpochGuard would wait for itself");
  const std::uint64_t target = epoch_.fetch_add(1, std::memory_order_acq_rel) + 1;
  // Wait for every reader that entered before `target` to leave.
  for (int round = 0; oldest_reader_epoch() < target; ++round) {
    if (round < 64) {
      std::this_thread::yield();
    } else {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  while (reclaim() != 0) {
  }
}

std::size_t EpochDomain::pending() const {
  std::lock_guard lock(retired_mutex_);
  return retired_.size();
}

}  // namespace edge::concurrency
