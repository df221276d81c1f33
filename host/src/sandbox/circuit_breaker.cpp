#include "sandbox/circuit_breaker.hpp"

namespace edge::sandbox {

bool CircuitBreaker::allow(Clock::time_point now) {
  if (!open_) return true;
  if (now < open_until_ || trial_running_) return false;
  trial_running_ = true;  // half-open: this call is the trial
  return true;
}

void CircuitBreaker::record_success() {
  if (open_) {
    open_ = false;
    failures_.clear();
  }
  trial_running_ = false;
}

void CircuitBreaker::record_failure(Clock::time_point now) {
  if (open_) {  // the trial failed
    trial_running_ = false;
    open_until_ = now + settings_.cooldown;
    return;
  }
  failures_.push_back(now);
  while (!failures_.empty() && failures_.front() + settings_.window < now) failures_.pop_front();
  if (settings_.failure_limit > 0 && failures_.size() >= settings_.failure_limit) {
    open_ = true;
    open_until_ = now + settings_.cooldown;
  }
}

CircuitBreaker::State CircuitBreaker::state(Clock::time_point now) const {
  if (!open_) return State::Closed;
  return now < open_until_ ? State::Open : State::HalfOpen;
}

std::string_view to_string(CircuitBreaker::State state) noexcept {
  switch (state) {
    case CircuitBreaker::State::Closed:
      return "closed";
    case CircuitBreaker::State::Open:
      return "open";
    case CircuitBreaker::State::HalfOpen:
      return "half-open";
  }
  return "?";
}

}  // namespace edge::sandbox
