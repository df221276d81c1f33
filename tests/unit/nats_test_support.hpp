// What the NATS transport's tests share: a client on a test server, and
// waiting for things that happen on libnats' threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
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
