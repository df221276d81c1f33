// SHA-256 with OpenSSL's EVP interface, streamed: a plugin is identified by
// the hash of its bytes (quarantine, content-addressed copies, status).
#pragma once

#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;

namespace edge {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(const void* data, std::size_t size);
  void update(std::string_view bytes) { update(bytes.data(), bytes.size()); }
  // The digest as 64 lowercase hex digits. Call once, after the last update.
  std::string hex_digest();

 private:
  struct FreeContext {
    void operator()(evp_md_ctx_st* context) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, FreeContext> context_;
};

// Reads `descriptor` to its end in 64 KiB chunks and returns their hash; each
// chunk also goes to `on_chunk` when given (a copy made in the same pass).
// Throws std::system_error naming `file` when a read fails.
std::string sha256_of_stream(int descriptor, const std::filesystem::path& file,
                             const std::function<void(const char*, std::size_t)>& on_chunk = {});

// The hash of a file's bytes, read in chunks. Throws std::system_error naming
// the file when it cannot be read.
std::string sha256_of_file(const std::filesystem::path& file);

}  // namespace edge
