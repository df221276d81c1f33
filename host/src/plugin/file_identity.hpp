// What says, without reading a file, that it is still the same content: the
// inode it is, its size, and its modification and change times. A rewrite
// changes mtime/ctime (or the inode, for a file moved into place).
#pragma once

#include <sys/stat.h>

#include <cerrno>
#include <ctime>
#include <filesystem>
#include <optional>

namespace edge {

struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec modified{};
  timespec changed{};

  static FileIdentity of(const struct stat& status) noexcept {
    return {status.st_dev, status.st_ino, status.st_size, status.st_mtim, status.st_ctim};
  }
  friend bool operator==(const FileIdentity& a, const FileIdentity& b) noexcept {
    return a.device == b.device && a.inode == b.inode && a.size == b.size &&
           a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec &&
           a.changed.tv_sec == b.changed.tv_sec && a.changed.tv_nsec == b.changed.tv_nsec;
  }
};

// The identity of the regular file at `file` (symlinks followed), or nullopt
// with errno set when it does not exist or is not a regular file.
inline std::optional<FileIdentity> identity_of(const std::filesystem::path& file) noexcept {
  struct stat status {};
  if (::stat(file.c_str(), &status) != 0) return std::nullopt;
  if (!S_ISREG(status.st_mode)) {
    errno = EISDIR;
    return std::nullopt;
  }
  return FileIdentity::of(status);
}

}  // namespace edge
