// A circuit breaker for a function whose workers keep dying: after
// `failure_limit` failures within `window`, calls fail fast for `cooldown`;
// then one trial call is let through (half-open), and its success closes the
// breaker, its failure opens it again.
//
// Thread-safety: none; WorkerPool guards it with its mutex. Time is passed
// in, so tests drive it without sleeping.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <string_view>

namespace edge::sandbox {

class CircuitBreaker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class State : unsigned char { Closed, Open, HalfOpen };

  struct Settings {
    std::size_t failure_limit = 5;
    Clock::duration window = std::chrono::seconds(60);
    Clock::duration cooldown = std::chrono::seconds(30);
  };

  explicit CircuitBreaker(Settings settings) : settings_(settings) {}

  // Whether a call may run now. In half-open state, only one trial at a time.
  bool allow(Clock::time_point now);
  void record_success();
  void record_failure(Clock::time_point now);

  State state(Clock::time_point now) const;
  // When an open breaker lets a trial through.
  Clock::time_point reopens_at() const noexcept { return open_until_; }
  std::size_t recent_failures() const noexcept { return failures_.size(); }

 private:
  Settings settings_;
  std::deque<Clock::time_point> failures_;  // within the window, oldest first
  bool open_ = false;
  bool trial_running_ = false;
  Clock::time_point open_until_{};
};

// "closed", "open", "half-open".
std::string_view to_string(CircuitBreaker::State state) noexcept;

}  // namespace edge::sandbox
