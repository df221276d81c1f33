// What the NATS transport's tests share: a client on a test server, and
// waiting for things that happen on libnats' threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "nats/nats_client.hpp"
#include "nats_server.hpp"

namespace edge::test {

// Generous: the machine may be busy; a passing test never waits this long.
inline constexpr std::chrono::seconds kEventDeadline{10};

// Reconnects quickly, so a restarted server is found again within the test.
inline nats::NatsClientOptions client_options(const NatsServerProcess& server,
                                              const std::string& name = "edge-test") {
  nats::NatsClientOptions options;
  options.url = server.url();
  options.name = name;
  options.reconnect_wait = std::chrono::milliseconds(50);
  options.reconnect_jitter = std::chrono::milliseconds(50);
  return options;
}

// Polls `condition` every 10 ms until it holds (true) or `deadline` passes.
template <typename Condition>
bool eventually(Condition condition, std::chrono::milliseconds deadline = kEventDeadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// Waits until the client is connected (again, after a server restart).
inline bool wait_until_connected(const nats::NatsClient& client,
                                 std::chrono::milliseconds deadline = kEventDeadline) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!client.connected()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Things recorded on one thread, awaited on another.
template <typename Item>
class Recorder {
 public:
  void add(Item item) {
    const std::lock_guard lock(mutex_);
    items_.push_back(std::move(item));
    changed_.notify_all();
  }
  // Waits until at least `count` items arrived; false on the deadline.
  bool wait_for_count(std::size_t count,
                      std::chrono::milliseconds deadline = kEventDeadline) const {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, deadline, [&] { return items_.size() >= count; });
  }
  std::vector<Item> items() const {
    const std::lock_guard lock(mutex_);
    return items_;
  }
  std::size_t size() const {
    const std::lock_guard lock(mutex_);
    return items_.size();
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<Item> items_;  // guarded by mutex_
};

}  // namespace edge::test
