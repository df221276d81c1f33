#include <edge/errors.hpp>
#include <edge/models.hpp>

#include <openssl/evp.h>
#include <array>
#include <memory>

namespace edge {
namespace {

// Lowercase hex MD5 through OpenSSL's EVP interface (the low-level MD5_*
// functions are deprecated in OpenSSL 3).
std::string md5_hex(std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int digest_size = 0;
  if (!context || EVP_DigestInit_ex(context.get(), EVP_md5(), nullptr) != 1 ||
      EVP_DigestUpdate(context.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(context.get(), digest.data(), &digest_size) != 1) {
    throw Error("MD5 is not available from OpenSSL");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(std::size_t{digest_size} * 2, '0');
  for (std::size_t i = 0; i < digest_size; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xF];
  }
  return hex;
}

}  // namespace

SyncState SyncState::from_data(std::string data, std::int64_t version) {
  SyncState state;
  state.checksum = md5_hex(data);
  state.data = std::move(data);
  state.version = version;
  return state;
}

bool SyncState::verify() const { return md5_hex(data) == checksum; }

}  // namespace edge
