// sleep — sleeps for the number of milliseconds given as decimal input, in
// steps of at most 5 ms, giving up with EDGE_DEADLINE_EXCEEDED once the call's
// deadline has passed. Used to exercise timeouts and concurrency.
#include <edge/sdk.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <thread>

namespace {

constexpr std::int64_t kStepMs = 5;

std::int64_t parse_milliseconds(std::string_view input) {
  std::int64_t milliseconds = -1;
  const char* const end = input.data() + input.size();
  const auto [last, error] = std::from_chars(input.data(), end, milliseconds);
  if (input.empty() || error != std::errc() || last != end || milliseconds < 0) {
    throw std::invalid_argument(
        "sleep: expected a non-negative integer number of milliseconds, got '" +
        std::string(input) + "'");
  }
  return milliseconds;
}

std::string sleep_handler(std::string_view input, edge::sdk::Context& context) {
  const std::int64_t requested = parse_milliseconds(input);
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(requested);
  // Compare time points, not whole milliseconds: truncation would cut the
  // sleep short by up to 1 ms.
  for (auto now = std::chrono::steady_clock::now(); now < until;
       now = std::chrono::steady_clock::now()) {
    if (context.deadline_passed()) {
      throw edge::sdk::DeadlineExceeded("sleep: deadline passed before " +
                                        std::to_string(requested) + " ms were slept");
    }
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        until - now, std::chrono::milliseconds(kStepMs)));
  }
  return "slept " + std::to_string(requested);
}

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<sleep_handler>(
                       "sleep", "1.0.0",
                       "Sleeps for the given number of milliseconds, honouring the deadline")
                       .memory_mb(16)
                       .timeout_ms(30000))
