#include "plugin/signature.hpp"

#include <edge/errors.hpp>

#include "util/file_descriptor.hpp"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <cerrno>
#include <system_error>

namespace edge {
namespace {

constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kSignatureBase64Chars = 88;  // 4 * ceil(64 / 3)
// A .sig file is one line; anything much larger is not a signature.
constexpr std::size_t kMaxSignatureFileBytes = 4096;

struct FreeBio {
  void operator()(BIO* bio) const noexcept { BIO_free(bio); }
};
struct FreeDigestContext {
  void operator()(EVP_MD_CTX* context) const noexcept { EVP_MD_CTX_free(context); }
};
using DigestContext = std::unique_ptr<EVP_MD_CTX, FreeDigestContext>;

std::string errno_text(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string bio_text(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

EVP_PKEY* read_pem(const std::filesystem::path& pem, bool is_private) {
  const std::string text = read_file_bytes(pem);
  const std::unique_ptr<BIO, FreeBio> bio(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
  EVP_PKEY* key = is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                             : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  const char* kind = is_private ? "an Ed25519 private key (PEM \"PRIVATE KEY\")"
                                : "an Ed25519 public key (PEM \"PUBLIC KEY\")";
  if (key == nullptr) throw Error("key file " + pem.string() + ": expected " + kind);
  if (EVP_PKEY_get_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    throw Error("key file " + pem.string() + ": expected " + kind + ", got another key type");
  }
  return key;
}

// The 64 signature bytes of a .sig file's text; empty when malformed.
std::string decode_signature(std::string_view text) {
  std::string base64;
  for (const char character : text) {
    if (std::isspace(static_cast<unsigned char>(character)) == 0) base64.push_back(character);
  }
  if (base64.size() != kSignatureBase64Chars) return {};
  std::array<unsigned char, kSignatureBase64Chars> decoded{};
  const int size =
      EVP_DecodeBlock(decoded.data(), reinterpret_cast<const unsigned char*>(base64.data()),
                      static_cast<int>(base64.size()));
  // EVP_DecodeBlock counts the padding's zero bytes: 64 bytes come back as 66.
  if (size != static_cast<int>(kSignatureBytes) + 2 || !base64.ends_with("==")) return {};
  return std::string(reinterpret_cast<const char*>(decoded.data()), kSignatureBytes);
}

}  // namespace

void Ed25519Key::Free::operator()(evp_pkey_st* key) const noexcept { EVP_PKEY_free(key); }

Ed25519Key Ed25519Key::read_public(const std::filesystem::path& pem) {
  return Ed25519Key(read_pem(pem, false));
}

Ed25519Key Ed25519Key::read_private(const std::filesystem::path& pem) {
  return Ed25519Key(read_pem(pem, true));
}

Ed25519Key Ed25519Key::generate() {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) throw Error("OpenSSL cannot generate an Ed25519 key");
  return Ed25519Key(key);
}

std::string Ed25519Key::public_pem() const {
  const std::unique_ptr<BIO, FreeBio> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key_.get()) != 1) throw Error("cannot write a public key");
  return bio_text(bio.get());
}

std::string Ed25519Key::private_pem() const {
  const std::unique_ptr<BIO, FreeBio> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PrivateKey(bio.get(), key_.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    throw Error("cannot write a private key");
  }
  return bio_text(bio.get());
}

std::filesystem::path signature_path_for(const std::filesystem::path& plugin) {
  return plugin.string() + ".sig";
}

std::string sign_bytes(const Ed25519Key& private_key, std::string_view bytes) {
  const DigestContext context(EVP_MD_CTX_new());
  std::array<unsigned char, kSignatureBytes> signature{};
  std::size_t size = signature.size();
  if (!context ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, private_key.get()) != 1 ||
      EVP_DigestSign(context.get(), signature.data(), &size,
                     reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size()) != 1 ||
      size != kSignatureBytes) {
    throw Error("OpenSSL cannot sign with this Ed25519 key");
  }
  std::array<unsigned char, kSignatureBase64Chars + 1> text{};
  const int length = EVP_EncodeBlock(text.data(), signature.data(), static_cast<int>(size));
  return std::string(reinterpret_cast<const char*>(text.data()), static_cast<std::size_t>(length)) +
         "\n";
}

bool verify_bytes(const Ed25519Key& public_key, std::string_view bytes,
                  std::string_view signature_text) {
  const std::string signature = decode_signature(signature_text);
  if (signature.empty()) return false;
  const DigestContext context(EVP_MD_CTX_new());
  return context &&
         EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, public_key.get()) == 1 &&
         EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(bytes.data()),
                          bytes.size()) == 1;
}

std::string read_file_bytes(const std::filesystem::path& file) {
  const FileDescriptor input(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!input) throw Error("cannot open " + file.string() + ": " + errno_text(errno));
  std::string bytes;
  std::array<char, std::size_t{64} * 1024> buffer{};
  for (;;) {
    const ssize_t count = ::read(input.get(), buffer.data(), buffer.size());
    if (count == 0) break;
    if (count < 0) {
      if (errno == EINTR) continue;
      throw Error("cannot read " + file.string() + ": " + errno_text(errno));
    }
    bytes.append(buffer.data(), static_cast<std::size_t>(count));
  }
  return bytes;
}

TrustedKeys::TrustedKeys(const std::vector<std::filesystem::path>& key_files) : files_(key_files) {
  for (const std::filesystem::path& file : key_files) {
    keys_.push_back(std::make_shared<const Ed25519Key>(Ed25519Key::read_public(file)));
  }
}

void TrustedKeys::verify(const std::filesystem::path& plugin, const std::filesystem::path& content,
                         bool required, const std::string& label) const {
  const std::filesystem::path signature_file = signature_path_for(plugin);
  const auto refuse = [&](const std::string& reason) { throw PluginError(label + ": " + reason); };
  std::error_code error;
  if (!std::filesystem::exists(signature_file, error)) {
    if (!required) return;
    refuse("not signed: no signature file " + signature_file.string() +
           " (security.require_signatures is on; sign it with edge-sign sign)");
  }
  if (keys_.empty()) {
    refuse("signature " + signature_file.string() +
           " cannot be checked: security.trusted_keys lists no key");
  }
  std::string signature_text;
  try {
    if (std::filesystem::file_size(signature_file, error) > kMaxSignatureFileBytes) {
      refuse("signature " + signature_file.string() + " is not a signature (larger than 4 KiB)");
    }
    signature_text = read_file_bytes(signature_file);
  } catch (const PluginError&) {
    throw;
  } catch (const Error& read_error) {
    refuse("signature cannot be read: " + std::string(read_error.what()));
  }
  if (decode_signature(signature_text).empty()) {
    refuse("signature " + signature_file.string() +
           " is malformed (expected the base64 text of a 64-byte Ed25519 signature)");
  }
  std::string bytes;
  try {
    bytes = read_file_bytes(content);
  } catch (const Error& read_error) {
    refuse(std::string("cannot read the bytes to verify: ") + read_error.what());
  }
  for (const auto& key : keys_) {
    if (verify_bytes(*key, bytes, signature_text)) return;
  }
  refuse("signature " + signature_file.string() + " does not verify with any of the " +
         std::to_string(keys_.size()) +
         " trusted key(s): the plugin or its signature was changed, or another key signed it");
}

}  // namespace edge
