// A string-keyed hash index whose lookups take no lock: the table behind
// EdgeRuntime's functions and EdgeCluster's nodes and routes.
//
// Every publication and every reader load is seq_cst: the epoch protocol's
// correctness argument needs them in the single total order (see
// EpochDomain::enter); on x86 such loads are plain moves.
//
// Readers call find()/for_each() inside an EpochGuard; the pointers they get
// stay valid until the guard ends. Writers (insert_or_replace, erase) must be
// serialised by the caller (one mutex per map); replaced and erased values,
// and outgrown tables, are retired to the epoch domain rather than deleted,
// so a reader never sees freed memory.
//
// Open addressing with linear probing; erased slots become tombstones until
// the next rebuild. Values never move, so a T* is stable for its lifetime.
#pragma once

#include "concurrency/epoch.hpp"

#include <atomic>
#include <bit>
#include <cassert>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace edge::concurrency {

template <class T>
class ReadMostlyMap {
 public:
  ReadMostlyMap() = default;
  // The owner guarantees that no reader is left (e.g. after synchronize()).
  ~ReadMostlyMap() {
    if (Table* table = table_.load(std::memory_order_relaxed)) {
      for (std::size_t i = 0; i <= table->mask; ++i) {
        Entry* entry = table->slots[i].load(std::memory_order_relaxed);
        if (entry != nullptr && entry != tombstone()) delete entry;
      }
      delete table;
    }
  }
  ReadMostlyMap(const ReadMostlyMap&) = delete;
  ReadMostlyMap& operator=(const ReadMostlyMap&) = delete;

  // Reader: the value stored under `key`, or nullptr. Call inside a guard.
  T* find(std::string_view key) const noexcept {
    const Table* table = table_.load(std::memory_order_seq_cst);
    if (table == nullptr) return nullptr;
    const std::size_t hash = hash_of(key);
    for (std::size_t i = hash & table->mask;; i = (i + 1) & table->mask) {
      Entry* entry = table->slots[i].load(std::memory_order_seq_cst);
      if (entry == nullptr) return nullptr;
      if (entry != tombstone() && entry->hash == hash && entry->key == key) return &entry->value;
    }
  }

  // Reader: calls visit(key, value) for every entry, in no particular order.
  template <class Visit>
  void for_each(Visit&& visit) const {
    const Table* table = table_.load(std::memory_order_seq_cst);
    if (table == nullptr) return;
    for (std::size_t i = 0; i <= table->mask; ++i) {
      Entry* entry = table->slots[i].load(std::memory_order_seq_cst);
      if (entry != nullptr && entry != tombstone()) {
        visit(std::string_view(entry->key), entry->value);
      }
    }
  }

  std::size_t size() const noexcept { return live_.load(std::memory_order_relaxed); }

  // Writer: stores a new value under `key`, built from `args`; a previous
  // value is retired. Returns the new value.
  template <class... Args>
  T& insert_or_replace(std::string key, Args&&... args) {
    auto fresh = std::make_unique<Entry>(std::move(key), std::forward<Args>(args)...);
    fresh->hash = hash_of(fresh->key);
    Table* table = table_.load(std::memory_order_relaxed);
    if (table != nullptr) {
      if (std::atomic<Entry*>* slot = find_slot(*table, fresh->key, fresh->hash)) {
        Entry* old = slot->exchange(fresh.get(), std::memory_order_seq_cst);
        EpochDomain::global().retire(old);
        return fresh.release()->value;
      }
    }
    if (table == nullptr || (live_ + tombstones_ + 1) * 4 > (table->mask + 1) * 3) {
      table = rebuild(live_ + 1);
    }
    place(*table, fresh.get());
    live_.fetch_add(1, std::memory_order_relaxed);
    return fresh.release()->value;
  }

  // Writer: removes `key`; its value is retired. False if absent.
  bool erase(std::string_view key) {
    Table* table = table_.load(std::memory_order_relaxed);
    if (table == nullptr) return false;
    std::atomic<Entry*>* slot = find_slot(*table, key, hash_of(key));
    if (slot == nullptr) return false;
    Entry* old = slot->exchange(tombstone(), std::memory_order_seq_cst);
    EpochDomain::global().retire(old);
    live_.fetch_sub(1, std::memory_order_relaxed);
    ++tombstones_;
    return true;
  }

 private:
  struct Entry {
    template <class... Args>
    explicit Entry(std::string k, Args&&... args)
        : key(std::move(k)), value(std::forward<Args>(args)...) {}
    std::string key;
    std::size_t hash = 0;
    T value;
  };
  struct Table {
    explicit Table(std::size_t capacity)
        : mask(capacity - 1), slots(new std::atomic<Entry*>[capacity]) {
      for (std::size_t i = 0; i < capacity; ++i) slots[i].store(nullptr, std::memory_order_relaxed);
    }
    std::size_t mask;
    std::unique_ptr<std::atomic<Entry*>[]> slots;
  };

  static std::size_t hash_of(std::string_view key) noexcept {
    return std::hash<std::string_view>{}(key);
  }
  // A removed slot: a unique address that is never an Entry and never
  // dereferenced (only compared).
  static Entry* tombstone() noexcept {
    alignas(Entry) static char marker;
    return reinterpret_cast<Entry*>(&marker);
  }

  static std::atomic<Entry*>* find_slot(Table& table, std::string_view key, std::size_t hash) {
    for (std::size_t i = hash & table.mask;; i = (i + 1) & table.mask) {
      Entry* entry = table.slots[i].load(std::memory_order_relaxed);
      if (entry == nullptr) return nullptr;
      if (entry != tombstone() && entry->hash == hash && entry->key == key) return &table.slots[i];
    }
  }
  static void place(Table& table, Entry* entry) {
    for (std::size_t i = entry->hash & table.mask;; i = (i + 1) & table.mask) {
      // Tombstones are not reused: a reader may be probing past them.
      if (table.slots[i].load(std::memory_order_relaxed) == nullptr) {
        table.slots[i].store(entry, std::memory_order_seq_cst);
        return;
      }
    }
  }
  // Builds a table for `wanted` live entries at most half full, moves the
  // live entries over, publishes it and retires the old one.
  Table* rebuild(std::size_t wanted) {
    const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, wanted * 2));
    auto table = std::make_unique<Table>(capacity);
    Table* old = table_.load(std::memory_order_relaxed);
    if (old != nullptr) {
      for (std::size_t i = 0; i <= old->mask; ++i) {
        Entry* entry = old->slots[i].load(std::memory_order_relaxed);
        if (entry != nullptr && entry != tombstone()) place(*table, entry);
      }
    }
    table_.store(table.get(), std::memory_order_seq_cst);
    EpochDomain::global().retire(old);
    tombstones_ = 0;
    return table.release();
  }

  std::atomic<Table*> table_{nullptr};
  std::atomic<std::size_t> live_{0};
  std::size_t tombstones_ = 0;  // writer-only
};

}  // namespace edge::concurrency
