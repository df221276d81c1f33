// IoThreads: the HTTP server's elastic thread pool.
#include "http/io_threads.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

using edge::http::IoThreads;
using namespace std::chrono_literals;

namespace {

// Waits until `done()`, failing the test after a generous deadline.
template <typename Done>
void eventually(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "condition not reached in time");
    std::this_thread::sleep_for(1ms);
  }
}

void wait_for(const std::atomic<bool>& release) {
  while (!release.load()) std::this_thread::sleep_for(1ms);
}

}  // namespace

TEST_CASE("while every thread is stuck in a handler the pool adds one, up to its maximum") {
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  IoThreads threads({1, 3, 5ms}, [&] {
    ++started;
    const IoThreads::BusyScope busy;  // a handler that blocks
    wait_for(release);
  });
  threads.start();
  eventually([&] { return started.load() == 3; });
  CHECK(threads.running() == 3);
  std::this_thread::sleep_for(50ms);  // ten more looks: still at the maximum
  CHECK(started.load() == 3);
  release = true;
  CHECK(threads.join(20s));
  CHECK(threads.running() == 0);
}

TEST_CASE("threads that are not inside a handler are not added to") {
  std::atomic<int> started{0};
  std::atomic<bool> release{false};
  IoThreads threads({2, 4, 5ms}, [&] {
    ++started;
    wait_for(release);  // waiting for work, not in a handler
  });
  threads.start();
  eventually([&] { return started.load() == 2; });
  std::this_thread::sleep_for(50ms);
  CHECK(started.load() == 2);
  release = true;
  CHECK(threads.join(20s));
}

TEST_CASE("join reports threads still inside handlers after its timeout") {
  std::atomic<bool> release{false};
  IoThreads threads({1, 1, 5ms}, [&] {
    const IoThreads::BusyScope busy;
    wait_for(release);
  });
  threads.start();
  CHECK_FALSE(threads.join(20ms));
  CHECK(threads.running() == 1);
  release = true;  // the destructor then waits for it
}
