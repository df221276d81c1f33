#include "fleet/desired_state_writer.hpp"

#include "nats/nats_error.hpp"

#include <utility>

namespace edge::fleet {

DesiredStateWriter::DesiredStateWriter(nats::KeyValueBucket& bucket, const log::Logger& logger,
                                       std::chrono::milliseconds retry_wait)
    : bucket_(bucket), logger_(logger), retry_wait_(retry_wait), thread_([this] { run(); }) {}

DesiredStateWriter::~DesiredStateWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
  for (const auto& [key, pending] : queue_) {
    logger_.write(log::Level::Warn, "desired state not written before stopping",
                  {{"key", key}, {"operation", pending.value ? "put" : "delete"}});
  }
}

void DesiredStateWriter::seed(const std::string& key, std::string value, std::uint64_t revision) {
  std::lock_guard lock(mutex_);
  known_[key] = {std::move(value), revision};
}

void DesiredStateWriter::put(const std::string& key, std::function<std::string()> value) {
  {
    std::lock_guard lock(mutex_);
    queue_[key] = {std::move(value)};
  }
  changed_.notify_all();
}

void DesiredStateWriter::erase(const std::string& key) {
  {
    std::lock_guard lock(mutex_);
    queue_[key] = {};
  }
  changed_.notify_all();
}

bool DesiredStateWriter::wait_until_written(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, timeout, [&] { return queue_.empty() && !busy_; });
}

std::size_t DesiredStateWriter::queued() const {
  std::lock_guard lock(mutex_);
  return queue_.size() + (busy_ ? 1 : 0);
}

std::uint64_t DesiredStateWriter::conflicts() const {
  std::lock_guard lock(mutex_);
  return conflicts_;
}

void DesiredStateWriter::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    auto item = queue_.begin();
    std::string key = item->first;
    Pending pending = std::move(item->second);
    queue_.erase(item);
    busy_ = true;
    lock.unlock();
    bool landed = false;
    try {
      landed = apply(key, pending);
    } catch (const std::exception& error) {
      logger_.write(log::Level::Warn, "desired state write failed; retrying",
                    {{"key", key}, {"error", error.what()}});
    }
    lock.lock();
    busy_ = false;
    if (!landed) {
      // Unless a newer operation for the key arrived meanwhile, retry this one.
      queue_.try_emplace(key, std::move(pending));
      changed_.wait_for(lock, retry_wait_, [&] { return stopping_; });
    }
    changed_.notify_all();
  }
}

bool DesiredStateWriter::apply(const std::string& key, const Pending& pending) {
  Known* known = nullptr;
  {
    std::lock_guard lock(mutex_);
    known = &known_[key];  // std::map: the address stays valid
  }
  if (!pending.value) {
    if (known->revision == 0 && known->value.empty()) return true;  // nothing there
    bucket_.erase(key);
    *known = {};
    return true;
  }
  std::string value = pending.value();
  if (known->revision != 0 && known->value == value) return true;
  try {
    known->revision = known->revision == 0 ? bucket_.create(key, value)
                                           : bucket_.update(key, value, known->revision);
    known->value = std::move(value);
    return true;
  } catch (const nats::KvConflictError& conflict) {
    const std::uint64_t expected = known->revision;
    const std::optional<nats::KvEntry> current = bucket_.get(key);
    *known = current ? Known{current->value, current->revision} : Known{};
    {
      std::lock_guard lock(mutex_);
      ++conflicts_;
    }
    logger_.write(log::Level::Error,
                  "desired state changed by another writer; re-read it before writing this "
                  "controller's placement",
                  {{"key", key},
                   {"expected_revision", expected},
                   {"found_revision", known->revision},
                   {"error", conflict.what()}});
    return false;  // retried against the revision just read
  }
}

}  // namespace edge::fleet
