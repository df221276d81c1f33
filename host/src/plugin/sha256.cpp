#include "plugin/sha256.hpp"

#include "util/file_descriptor.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>
#include <array>
#include <cerrno>
#include <stdexcept>
#include <system_error>

namespace edge {

void Sha256::FreeContext::operator()(evp_md_ctx_st* context) const noexcept {
  EVP_MD_CTX_free(context);
}

Sha256::Sha256() : context_(EVP_MD_CTX_new()) {
  // Failing here means OpenSSL itself is out of memory or misconfigured.
  if (!context_ || EVP_DigestInit_ex(context_.get(), EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("OpenSSL cannot start a SHA-256 digest");
  }
}

Sha256::~Sha256() = default;

void Sha256::update(const void* data, std::size_t size) {
  if (EVP_DigestUpdate(context_.get(), data, size) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 update failed");
  }
}

std::string Sha256::hex_digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_.get(), digest.data(), &length) != 1) {
    throw std::runtime_error("OpenSSL SHA-256 final failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(std::size_t{length} * 2);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0x0f]);
  }
  return hex;
}

std::string sha256_of_stream(int descriptor, const std::filesystem::path& file,
                             const std::function<void(const char*, std::size_t)>& on_chunk) {
  Sha256 hash;
  std::array<char, std::size_t{64} * 1024> buffer{};
  for (;;) {
    const ssize_t count = ::read(descriptor, buffer.data(), buffer.size());
    if (count == 0) break;
    if (count < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "cannot read " + file.string());
    }
    hash.update(buffer.data(), static_cast<std::size_t>(count));
    if (on_chunk) on_chunk(buffer.data(), static_cast<std::size_t>(count));
  }
  return hash.hex_digest();
}

std::string sha256_of_file(const std::filesystem::path& file) {
  const FileDescriptor input(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!input)
    throw std::system_error(errno, std::generic_category(), "cannot open " + file.string());
  return sha256_of_stream(input.get(), file);
}

}  // namespace edge
