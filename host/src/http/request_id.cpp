#include "http/request_id.hpp"

#include <cstdint>
#include <random>

namespace edge::http {
namespace {

// SplitMix64: tiny, fast, and good enough to make ids distinct.
class IdGenerator {
 public:
  IdGenerator() {
    std::random_device device;
    state_ = (std::uint64_t{device()} << 32) ^ device();
  }
  std::uint64_t next() noexcept {
    std::uint64_t value = (state_ += 0x9E3779B97F4A7C15ULL);
    value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
    value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
    return value ^ (value >> 31);
  }

 private:
  std::uint64_t state_ = 0;
};

}  // namespace

bool is_acceptable_request_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > kMaxRequestIdLength) return false;
  for (const char character : id) {
    const auto byte = static_cast<unsigned char>(character);
    if (byte < 0x20 || byte > 0x7E) return false;
  }
  return true;
}

std::string generate_request_id() {
  thread_local IdGenerator generator;
  static constexpr char kHex[] = "0123456789abcdef";
  std::uint64_t value = generator.next();
  std::string id(16, '0');
  for (std::size_t index = 16; index-- > 0; value >>= 4) id[index] = kHex[value & 0xF];
  return id;
}

}  // namespace edge::http
