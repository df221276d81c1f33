// Ed25519 detached signatures of plugin files (OpenSSL 3 EVP).
//
// Format: the signature of PLUGIN.so is the file PLUGIN.so.sig next to it,
// holding the 64-byte Ed25519 signature over the plugin file's exact bytes,
// base64-encoded (88 characters, surrounding whitespace ignored). Keys are
// PEM files: "PUBLIC KEY" (SubjectPublicKeyInfo) and "PRIVATE KEY" (PKCS#8),
// as `openssl genpkey -algorithm ed25519` and `edge-sign keygen` write them.
//
// Thread-safety: a TrustedKeys is immutable once built; verify() may run on
// any number of threads at once.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct evp_pkey_st;

namespace edge {

// An owned OpenSSL key (public or private).
class Ed25519Key {
 public:
  // Read a PEM file; throw edge::Error naming the file and what was expected
  // (an Ed25519 key of that kind).
  static Ed25519Key read_public(const std::filesystem::path& pem);
  static Ed25519Key read_private(const std::filesystem::path& pem);
  // A new random key pair (the private key holds both halves).
  static Ed25519Key generate();

  // PEM text of the public half / of the private key.
  std::string public_pem() const;
  std::string private_pem() const;
  evp_pkey_st* get() const noexcept { return key_.get(); }

 private:
  struct Free {
    void operator()(evp_pkey_st* key) const noexcept;
  };
  explicit Ed25519Key(evp_pkey_st* key) : key_(key) {}
  std::unique_ptr<evp_pkey_st, Free> key_;
};

// <plugin>.sig.
std::filesystem::path signature_path_for(const std::filesystem::path& plugin);

// The base64 text of a signature of `bytes` with a private key (ends in a newline).
std::string sign_bytes(const Ed25519Key& private_key, std::string_view bytes);

// Whether `signature_text` (the .sig file's content) is a valid signature of
// `bytes` by `public_key`. False for malformed text, too.
bool verify_bytes(const Ed25519Key& public_key, std::string_view bytes,
                  std::string_view signature_text);

// The whole content of a file. Throws edge::Error naming it.
std::string read_file_bytes(const std::filesystem::path& file);

// The keys a PluginSecurityPolicy trusts, read once.
class TrustedKeys {
 public:
  TrustedKeys() = default;
  // Throws edge::Error naming the key file that cannot be used.
  explicit TrustedKeys(const std::vector<std::filesystem::path>& key_files);

  bool empty() const noexcept { return keys_.empty(); }

  // Checks the signature of `plugin` (read from <plugin>.sig) over the bytes
  // of `content` (the plugin itself, or the store's copy of it: what gets
  // mapped). A missing signature is accepted unless `required`. Throws
  // PluginError "<label>: <reason>" naming the signature file and why.
  void verify(const std::filesystem::path& plugin, const std::filesystem::path& content,
              bool required, const std::string& label) const;

 private:
  std::vector<std::filesystem::path> files_;
  std::vector<std::shared_ptr<const Ed25519Key>> keys_;
};

}  // namespace edge
