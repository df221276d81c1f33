#include "sandbox/circuit_breaker.hpp"

#include <doctest/doctest.h>

using edge::sandbox::CircuitBreaker;
using namespace std::chrono_literals;

TEST_CASE("the breaker opens after the limit within the window, then lets one trial through") {
  CircuitBreaker breaker({3, 60s, 30s});
  const auto start = CircuitBreaker::Clock::time_point{} + 1000s;
  breaker.record_failure(start);
  breaker.record_failure(start + 1s);
  CHECK(breaker.allow(start + 2s));
  breaker.record_failure(start + 2s);
  CHECK(breaker.state(start + 3s) == CircuitBreaker::State::Open);
  CHECK_FALSE(breaker.allow(start + 3s));
  CHECK(breaker.reopens_at() == start + 32s);

  CHECK(breaker.state(start + 33s) == CircuitBreaker::State::HalfOpen);
  CHECK(breaker.allow(start + 33s));
  CHECK_FALSE(breaker.allow(start + 33s));  // one trial at a time
  breaker.record_failure(start + 34s);      // the trial failed: open again
  CHECK(breaker.state(start + 35s) == CircuitBreaker::State::Open);
  CHECK(breaker.allow(start + 65s));
  breaker.record_success();
  CHECK(breaker.state(start + 65s) == CircuitBreaker::State::Closed);
  CHECK(breaker.recent_failures() == 0);
}

TEST_CASE("failures older than the window do not count") {
  CircuitBreaker breaker({3, 10s, 5s});
  const auto start = CircuitBreaker::Clock::time_point{} + 1000s;
  breaker.record_failure(start);
  breaker.record_failure(start + 5s);
  breaker.record_failure(start + 20s);  // the first two are out of the window
  CHECK(breaker.state(start + 20s) == CircuitBreaker::State::Closed);
  CHECK(breaker.recent_failures() == 1);
}
