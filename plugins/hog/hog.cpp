// hog — allocates the number of megabytes given as decimal input and touches
// every page, so the memory is really used; returns "allocated N". Shows the
// memory limit of `isolation: process` (memory_mb): past it, the worker dies
// and the call fails with "memory limit exceeded".
#include <edge/sdk.hpp>

#include <unistd.h>
#include <charconv>
#include <cstddef>
#include <memory>
#include <stdexcept>

namespace {

std::size_t parse_megabytes(std::string_view input) {
  std::size_t megabytes = 0;
  const char* const end = input.data() + input.size();
  const auto [last, error] = std::from_chars(input.data(), end, megabytes);
  if (input.empty() || error != std::errc() || last != end || megabytes > (std::size_t{1} << 20)) {
    throw std::invalid_argument("hog: expected a number of megabytes (0 to 1048576), got '" +
                                std::string(input) + "'");
  }
  return megabytes;
}

std::string hog_handler(std::string_view input, edge::sdk::Context&) {
  const std::size_t megabytes = parse_megabytes(input);
  const std::size_t bytes = megabytes << 20;
  // new[] rather than malloc: under RLIMIT_AS a failure is std::bad_alloc,
  // which the worker reports as the memory limit.
  const std::unique_ptr<volatile char[]> block(new volatile char[bytes]);
  const auto page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  for (std::size_t offset = 0; offset < bytes; offset += page) block[offset] = 1;
  return "allocated " + std::to_string(megabytes);
}

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<hog_handler>(
                       "hog", "1.0.0", "Allocates and touches the given number of megabytes")
                       .memory_mb(64)
                       .timeout_ms(10000))
