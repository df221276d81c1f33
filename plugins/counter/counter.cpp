// counter — returns 1, 2, 3, ... : the number of invocations since this
// instance was loaded. Shows per-instance state through EDGE_EXPORT_CLASS: a
// new load (a redeploy, another node) starts again from 1.
#include <edge/sdk.hpp>

#include <atomic>
#include <cstdint>
#include <string>

namespace {

class Counter {
 public:
  // Not serial: the host may call this from several threads at once; the
  // atomic gives each call its own number.
  std::string invoke(std::string_view /*input*/, edge::sdk::Context& /*context*/) {
    return std::to_string(invocations_.fetch_add(1, std::memory_order_relaxed) + 1);
  }

 private:
  std::atomic<std::uint64_t> invocations_{0};
};

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_class<Counter>(
                       "counter", "1.0.0", "Returns the number of invocations since it was loaded")
                       .memory_mb(16)
                       .timeout_ms(1000))
