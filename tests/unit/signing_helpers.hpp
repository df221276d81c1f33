// Keys and signatures for tests: a key pair written as PEM files, and
// <plugin>.sig written the way edge-sign writes it.
#pragma once

#include "plugin/signature.hpp"
#include "scratch_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>

namespace edge::test {

struct KeyPair {
  Ed25519Key key = Ed25519Key::generate();
  std::filesystem::path public_file;

  // Writes the public half to `directory`/`name`.pub.
  KeyPair(const std::filesystem::path& directory, const std::string& name)
      : public_file(directory / (name + ".pub")) {
    write_file(public_file, key.public_pem());
  }

  // Writes <plugin>.sig over the plugin's current bytes.
  void sign(const std::filesystem::path& plugin) const {
    write_file(signature_path_for(plugin), sign_bytes(key, read_file_bytes(plugin)));
  }
};

// Flips every bit of the byte at `offset` of `file`.
inline void flip_byte(const std::filesystem::path& file, std::size_t offset) {
  std::string bytes = read_file_bytes(file);
  REQUIRE(offset < bytes.size());
  bytes[offset] = static_cast<char>(~static_cast<unsigned char>(bytes[offset]));
  write_file(file, bytes);
}

}  // namespace edge::test
