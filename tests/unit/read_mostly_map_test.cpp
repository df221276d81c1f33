#include "concurrency/read_mostly_map.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using edge::concurrency::EpochDomain;
using edge::concurrency::EpochGuard;
using edge::concurrency::ReadMostlyMap;

TEST_CASE("insert, find, replace and erase") {
  ReadMostlyMap<int> map;
  EpochGuard guard;
  CHECK(map.find("a") == nullptr);
  map.insert_or_replace("a", 1);
  map.insert_or_replace("b", 2);
  REQUIRE(map.find("a") != nullptr);
  CHECK(*map.find("a") == 1);
  CHECK(map.size() == 2);
  map.insert_or_replace("a", 10);
  CHECK(*map.find("a") == 10);
  CHECK(map.size() == 2);
  CHECK(map.erase("a"));
  CHECK_FALSE(map.erase("a"));
  CHECK(map.find("a") == nullptr);
  CHECK(*map.find("b") == 2);
  CHECK(map.size() == 1);
}

TEST_CASE("grows past many entries and survives churn through tombstones") {
  ReadMostlyMap<std::size_t> map;
  for (std::size_t i = 0; i < 5000; ++i) map.insert_or_replace("key-" + std::to_string(i), i);
  for (std::size_t i = 0; i < 5000; i += 2) CHECK(map.erase("key-" + std::to_string(i)));
  for (int round = 0; round < 20; ++round) {
    map.insert_or_replace("churn", static_cast<std::size_t>(round));
    map.erase("churn");
  }
  EpochGuard guard;
  CHECK(map.size() == 2500);
  std::size_t visited = 0;
  map.for_each([&](std::string_view key, std::size_t value) {
    CHECK(key == "key-" + std::to_string(value));
    CHECK(value % 2 == 1);
    ++visited;
  });
  CHECK(visited == 2500);
  CHECK(map.find("key-4999") != nullptr);
  CHECK(map.find("key-4998") == nullptr);
}

TEST_CASE("readers see consistent values while a writer replaces and grows the table") {
  struct Pair {
    Pair(int a_, int b_) : a(a_), b(b_) {}
    int a;
    int b;  // always -a: a torn or freed value would break it
  };
  ReadMostlyMap<Pair> map;
  map.insert_or_replace("hot", 1, -1);
  std::atomic<bool> stop{false};
  std::atomic<long> inconsistencies{0};
  std::vector<std::thread> readers;
  readers.reserve(2);
  for (int r = 0; r < 2; ++r) {
    readers.emplace_back([&] {
      while (!stop) {
        EpochGuard guard;
        const Pair* pair = map.find("hot");
        if (pair == nullptr || pair->a != -pair->b) ++inconsistencies;
      }
    });
  }
  for (int i = 2; i < 20000; ++i) {
    map.insert_or_replace("hot", i, -i);
    if (i % 10 == 0) map.insert_or_replace("filler-" + std::to_string(i), i, -i);
    if (i % 100 == 0) EpochDomain::global().reclaim();
  }
  stop = true;
  for (auto& reader : readers) reader.join();
  EpochDomain::global().synchronize();
  CHECK(inconsistencies == 0);
}
