// The threads that run the server's io_context, elastic between a base and a
// maximum count.
//
// Handlers run on io threads and may block for as long as a function call
// takes. More threads than cores would keep serving around such calls, but
// every extra thread costs context switches on each request when calls are
// quick (measured: four threads on two cores switch six times as often as
// two). So the pool starts with `base` threads (the hardware's) and adds one,
// up to `max`, whenever every running thread has been inside a handler for
// longer than `stuck_after`: a slow call occupies one thread while the others
// keep serving, as with a fixed pool of `max` threads, and quick calls pay for
// `base` threads only. Threads once added stay until the pool stops.
//
// Thread-safety: busy() may be called from any thread; start() and join()
// from one controlling thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace edge::http {

class IoThreads {
 public:
  struct Options {
    unsigned base = 1;
    unsigned max = 1;
    std::chrono::milliseconds stuck_after{5};  // also how often the pool looks
  };

  // `run` is each thread's body (io_context::run); it returns when the
  // io_context stops.
  IoThreads(Options options, std::function<void()> run);
  // Joins every thread: they must be returning (the io_context stopped).
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  void start();

  // Marks the calling io thread as inside a handler for the scope's life
  // (a no-op on other threads). Costs one clock read and two stores to the
  // thread's own slot.
  class BusyScope {
   public:
    BusyScope();
    ~BusyScope();
    BusyScope(const BusyScope&) = delete;
    BusyScope& operator=(const BusyScope&) = delete;

   private:
    std::atomic<std::int64_t>* slot_;
  };

  // Stops adding threads and waits, at most `timeout`, for every thread's
  // `run` to return. True when all did (they are then joined); false when
  // some are still inside handlers.
  bool join(std::chrono::milliseconds timeout);

  unsigned running() const;

 private:
  // One per possible thread, each on its own cache line: when its thread
  // entered the handler it is in (steady clock, ns), 0 when it is in none.
  struct alignas(64) Slot {
    std::atomic<std::int64_t> busy_since{0};
  };

  void add_thread();  // with mutex_ held
  void watch();       // the watcher thread's body

  const Options options_;
  const std::function<void()> run_;
  std::unique_ptr<Slot[]> slots_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;   // a thread returned, or stopping
  std::vector<std::thread> threads_;  // guarded by mutex_
  unsigned returned_ = 0;             // threads whose run returned; guarded by mutex_
  bool stopping_ = false;             // guarded by mutex_
  std::thread watcher_;
};

}  // namespace edge::http
