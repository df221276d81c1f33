// Concurrent invoke / deploy / undeploy / warm_up on one runtime: every call
// either succeeds with the right output or fails with a documented error, and
// the counters add up exactly.
#include <edge/errors.hpp>
#include <edge/runtime.hpp>

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace edge;
using edge::test::fixture;
using edge::test::plugin;

TEST_CASE("concurrent invokes of one plugin are all counted and all correct") {
  EdgeRuntime runtime(EdgeNode{"n", "n"});
  EdgeFunction echo{"echo", "echo"};
  echo.plugin = plugin("echo");
  runtime.deploy(echo);
  constexpr int kThreads = 4;
  constexpr int kCalls = 5000;
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string input = "thread-" + std::to_string(t);
      for (int i = 0; i < kCalls; ++i) {
        if (runtime.invoke("echo", input) != input) ++wrong;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(wrong == 0);
  const FunctionStats stats = runtime.get_function_stats("echo");
  CHECK(stats.invocations == kThreads * kCalls);
  CHECK(stats.cold_starts == 1);  // racing first calls load it once
  CHECK(stats.in_flight == 0);
}

TEST_CASE("a plugin that asks for serial calls never sees two at once") {
  EdgeRuntime runtime(EdgeNode{"n", "n"});
  EdgeFunction probe{"probe", "probe"};
  probe.plugin = fixture("serial_probe");
  runtime.deploy(probe);
  std::vector<std::thread> threads;
  threads.reserve(4);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) runtime.invoke("probe");
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(runtime.invoke("probe") == "1");  // the highest concurrency it ever saw
}

TEST_CASE("invoke, redeploy, undeploy and warm_up racing each other") {
  EdgeRuntime runtime(EdgeNode{"n", "n"});
  EdgeFunction counter{"counter", "counter"};
  counter.plugin = plugin("counter");
  EdgeFunction echo{"echo", "echo"};
  echo.plugin = plugin("echo");
  runtime.deploy(echo);
  runtime.deploy(counter);

  std::atomic<bool> stop{false};
  std::atomic<long> ok{0};
  std::atomic<long> unknown{0};
  std::atomic<long> wrong{0};
  std::vector<std::thread> callers;
  callers.reserve(3);
  for (int t = 0; t < 3; ++t) {
    callers.emplace_back([&] {
      while (!stop) {
        try {
          if (runtime.invoke("echo", "x") != "x") ++wrong;
          const std::string count = runtime.invoke("counter");
          if (count.empty() || std::stol(count) < 1) ++wrong;
          runtime.warm_up("counter");
          ++ok;
        } catch (const std::invalid_argument&) {
          ++unknown;  // undeployed at that moment: documented
        }
      }
    });
  }
  for (int round = 0; round < 300; ++round) {
    runtime.deploy(counter);
    if (round % 3 == 0) {
      runtime.undeploy("counter");
      runtime.deploy(counter);
    }
    if (round % 50 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  stop = true;
  for (auto& caller : callers) caller.join();
  CHECK(wrong == 0);
  CHECK(ok > 0);
  CHECK(runtime.get_function_stats("echo").errors == 0);
  CHECK(runtime.get_function_stats("echo").in_flight == 0);
}
