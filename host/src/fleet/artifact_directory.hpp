// Where a node host keeps the plugin artifacts it fetched and verified:
// `<directory>/<sha256>.so`, read-only, written atomically (a temporary file
// in the same directory, fsync, chmod 0444, rename, fsync of the directory),
// so that a loader never sees a partial or unverified file under that name.
//
// A file is present only once its bytes were verified (fetch_artifact
// returns nothing else), so its presence is the "already fetched" check.
//
// Thread-safety: every method may be called from any thread; two writers of
// the same content both succeed (rename replaces one complete copy with
// another).
#pragma once

#include <filesystem>
#include <optional>
#include <string_view>

namespace edge::fleet {

class ArtifactDirectory {
 public:
  // Creates the directory (and its parents) if missing. Throws
  // std::system_error naming it when that fails.
  explicit ArtifactDirectory(std::filesystem::path directory);

  const std::filesystem::path& directory() const noexcept { return directory_; }
  // `<directory>/<sha256>.so`, whether or not it exists.
  std::filesystem::path path_of(std::string_view sha256) const;
  // That file, if it exists.
  std::optional<std::filesystem::path> find(std::string_view sha256) const;
  // Writes verified bytes as `<sha256>.so` (see above) and returns the path.
  // Throws std::system_error naming the file on any failure, leaving no
  // temporary file behind.
  std::filesystem::path write(std::string_view sha256, std::string_view bytes) const;

 private:
  std::filesystem::path directory_;
};

}  // namespace edge::fleet
