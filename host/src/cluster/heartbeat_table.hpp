// The last-heartbeat times of every node, in one dense array so that stale
// detection over 100,000 nodes is a sequential scan of 8-byte slots rather
// than a walk over scattered node objects.
//
// Slots are written lock-free by heartbeats; allocate, release and scan are
// called under the cluster's mutex. Chunks never move, so a slot's address is
// stable for as long as it is allocated.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <vector>

namespace edge {

template <class Owner>
class HeartbeatTable {
 public:
  static constexpr std::int64_t kFree = std::numeric_limits<std::int64_t>::max();

  // A slot for `owner`, holding `now_ns`; returns its index.
  std::size_t allocate(Owner* owner, std::int64_t now_ns) {
    std::size_t index;
    if (!free_.empty()) {
      index = free_.back();
      free_.pop_back();
    } else {
      index = owners_.size();
      if (index % kChunk == 0) chunks_.push_back(std::make_unique<Chunk>());
      owners_.push_back(nullptr);
    }
    owners_[index] = owner;
    slot(index).store(now_ns, std::memory_order_relaxed);
    return index;
  }

  void release(std::size_t index) {
    slot(index).store(kFree, std::memory_order_relaxed);
    owners_[index] = nullptr;
    free_.push_back(index);
  }

  std::atomic<std::int64_t>& slot(std::size_t index) {
    return chunks_[index / kChunk]->slots[index % kChunk];
  }

  // Calls visit(owner) for every allocated slot older than cutoff_ns.
  template <class Visit>
  void for_each_older_than(std::int64_t cutoff_ns, Visit&& visit) const {
    for (std::size_t chunk = 0; chunk < chunks_.size(); ++chunk) {
      const std::size_t used = std::min(kChunk, owners_.size() - chunk * kChunk);
      const auto& slots = chunks_[chunk]->slots;
      for (std::size_t i = 0; i < used; ++i) {
        if (slots[i].load(std::memory_order_relaxed) < cutoff_ns)
          visit(owners_[chunk * kChunk + i]);
      }
    }
  }

 private:
  static constexpr std::size_t kChunk = 4096;
  struct Chunk {
    Chunk() {
      for (auto& slot : slots) slot.store(kFree, std::memory_order_relaxed);
    }
    std::array<std::atomic<std::int64_t>, kChunk> slots;
  };

  std::vector<std::unique_ptr<Chunk>> chunks_;
  std::vector<Owner*> owners_;  // by slot index; nullptr when free
  std::vector<std::size_t> free_;
};

}  // namespace edge
