// Copies a plugin file into a directory while hashing it, so that the copy's
// name can be its content's SHA-256 and what gets loaded is exactly what was
// hashed, whatever happens to the original afterwards.
#pragma once

#include "plugin/file_identity.hpp"

#include <filesystem>
#include <string>

namespace edge {

struct ContentCopy {
  std::filesystem::path
      temporary;  // in the target directory, mode 0500; the caller renames or removes it
  std::string sha256;
  FileIdentity identity;  // of the file that was read, before reading
  // False when the file changed (size, times, inode) while it was read: the
  // copy may be a half-written file.
  bool stable = false;
};

// Reads `file` once, writing its bytes to a new temporary file in
// `directory` and hashing them. Throws std::system_error naming the file on
// any I/O error (and leaves no temporary file behind).
ContentCopy copy_with_hash(const std::filesystem::path& file,
                           const std::filesystem::path& directory);

}  // namespace edge
