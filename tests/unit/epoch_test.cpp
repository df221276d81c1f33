#include "concurrency/epoch.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using edge::concurrency::EpochDomain;
using edge::concurrency::EpochGuard;

namespace {

// Counts its own destruction so tests can see when reclamation happened.
struct Tracked {
  explicit Tracked(std::atomic<int>& counter) : destroyed(counter) {}
  ~Tracked() { destroyed.fetch_add(1); }
  std::atomic<int>& destroyed;
};

}  // namespace

TEST_CASE("a retired object survives while a reader that may see it is inside its guard") {
  std::atomic<int> destroyed{0};
  auto& domain = EpochDomain::global();
  domain.synchronize();

  std::atomic<bool> reader_inside{false};
  std::atomic<bool> release_reader{false};
  std::thread reader([&] {
    EpochGuard guard;
    reader_inside = true;
    while (!release_reader) std::this_thread::yield();
  });
  while (!reader_inside) std::this_thread::yield();

  domain.retire(new Tracked(destroyed));
  domain.reclaim();
  CHECK(destroyed == 0);  // the reader entered before the retirement

  release_reader = true;
  reader.join();
  domain.reclaim();
  CHECK(destroyed == 1);
}

TEST_CASE("readers that enter after a retirement do not delay it") {
  std::atomic<int> destroyed{0};
  auto& domain = EpochDomain::global();
  domain.synchronize();
  domain.retire(new Tracked(destroyed));
  EpochGuard late_reader_on_another_object;  // entered after the retirement
  // reclaim from a thread that is not reading
  std::thread([&] { domain.reclaim(); }).join();
  CHECK(destroyed == 1);
}

TEST_CASE("synchronize waits for readers inside their guard, then reclaims") {
  std::atomic<int> destroyed{0};
  auto& domain = EpochDomain::global();
  std::atomic<bool> reader_inside{false};
  std::thread reader([&] {
    EpochGuard guard;
    reader_inside = true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  });
  while (!reader_inside) std::this_thread::yield();
  domain.retire(new Tracked(destroyed));
  const auto start = std::chrono::steady_clock::now();
  domain.synchronize();
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(20));
  CHECK(destroyed == 1);
  reader.join();
}

TEST_CASE("guards nest on one thread") {
  CHECK_FALSE(EpochGuard::active());
  {
    EpochGuard outer;
    {
      EpochGuard inner;
      CHECK(EpochGuard::active());
    }
    CHECK(EpochGuard::active());
  }
  CHECK_FALSE(EpochGuard::active());
}
