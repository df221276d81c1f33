// Epoch-based reclamation: lets hot paths read shared structures without
// locks or reference counts, while writers replace them.
//
// A reader wraps its accesses in an EpochGuard. A writer unpublishes an object
// (e.g. swaps a table pointer), then retire()s it; the object is destroyed by
// reclaim() or synchronize() once every reader that might still see it has
// left its guard. Readers touch only their own cache line, so concurrent
// readers scale with cores (a shared_ptr copy or shared_mutex would bounce one
// cache line between them).
//
// Rules: a thread inside a guard must not call synchronize() (it would wait
// for itself) and must not block on a lock held by a thread that does.
// reclaim() runs destructors on the calling thread: call it with no lock held
// that a destructor might need.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <vector>

#if defined(__SANITIZE_THREAD__)
#define EDGE_THREAD_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define EDGE_THREAD_SANITIZER 1
#endif
#endif

namespace edge::concurrency {

// A sequentially consistent fence. ThreadSanitizer does not model fences: in
// its builds a read-modify-write on one shared atomic gives the same ordering
// and makes the synchronisation visible to it.
inline void full_fence() noexcept {
#if defined(EDGE_THREAD_SANITIZER)
  static std::atomic<int> fence_word{0};
  fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
  std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

class EpochDomain {
 public:
  // The process-wide domain. Never destroyed, so guards in thread-local
  // destructors and late retirements stay safe.
  static EpochDomain& global();

  // Schedules `object` for deletion once no reader can hold it.
  template <class T>
  void retire(T* object) {
    if (object != nullptr) {
      retire_erased(object, [](void* erased) { delete static_cast<T*>(erased); });
    }
  }

  // Destroys every retired object no reader can still see. Non-blocking
  // (apart from the destructors themselves). Returns how many were destroyed.
  std::size_t reclaim();
  // Waits until every reader that entered before this call has left, then
  // reclaims. Must not be called from inside a guard.
  void synchronize();
  // Objects retired and not yet destroyed (for tests and leak checks).
  std::size_t pending() const;

  struct alignas(64) ReaderSlot {
    std::atomic<std::uint64_t> epoch{0};  // 0: not reading
    std::atomic<bool> in_use{false};
    ReaderSlot* next = nullptr;  // immutable once published
  };

  // Hot path, used by EpochGuard. Defined inline for speed.
  void enter(ReaderSlot& slot) noexcept {
    // A seq_cst exchange, like the seq_cst loads readers then make of the
    // protected pointers (ReadMostlyMap) and the seq_cst scan of the slots,
    // sits in the one total order of seq_cst operations: a scan that misses
    // this announcement comes before it, so the reader sees the unpublished
    // pointer's replacement (store-buffer litmus). On x86 this is one xchg,
    // cheaper than a store plus mfence, and the loads stay plain moves.
    slot.epoch.exchange(epoch_.load(std::memory_order_acquire), std::memory_order_seq_cst);
  }
  static void leave(ReaderSlot& slot) noexcept { slot.epoch.store(0, std::memory_order_release); }

  ReaderSlot& acquire_slot();
  static void release_slot(ReaderSlot& slot) noexcept;

 private:
  EpochDomain() = default;
  struct Retired {
    std::uint64_t epoch;
    void* object;
    void (*destroy)(void*);
  };
  void retire_erased(void* object, void (*destroy)(void*));
  // The smallest epoch a reader is in now (UINT64_MAX when none is reading).
  std::uint64_t oldest_reader_epoch() const noexcept;

  std::atomic<std::uint64_t> epoch_{1};
  std::atomic<ReaderSlot*> slots_{nullptr};  // push-only list
  mutable std::mutex retired_mutex_;
  std::vector<Retired> retired_;  // guarded by retired_mutex_
};

// RAII read section on the global domain. Reentrant: nested guards on one
// thread cost only a counter increment.
class EpochGuard {
 public:
  EpochGuard() noexcept {
    ThreadState& state = thread_state();
    if (state.depth++ == 0) EpochDomain::global().enter(*state.slot);
  }
  ~EpochGuard() {
    ThreadState& state = thread_state();
    if (--state.depth == 0) EpochDomain::leave(*state.slot);
  }
  EpochGuard(const EpochGuard&) = delete;
  EpochGuard& operator=(const EpochGuard&) = delete;

  // True when the calling thread is inside a guard.
  static bool active() noexcept { return thread_state().depth != 0; }

 private:
  struct ThreadState {
    ThreadState() : slot(&EpochDomain::global().acquire_slot()) {}
    ~ThreadState() { EpochDomain::release_slot(*slot); }
    EpochDomain::ReaderSlot* slot;
    int depth = 0;
  };
  static ThreadState& thread_state() noexcept {
    thread_local ThreadState state;
    return state;
  }
};

}  // namespace edge::concurrency
