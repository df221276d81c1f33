// The controller's catalogue of plugin artifacts: for a function's plugin
// file, the manifest nodes need to fetch and verify it (SHA-256, MD5 of its
// SyncState, size, version); for a SHA-256, the file that holds it, so that
// the controller can serve the chunks (ArtifactServer).
//
// A file is hashed once per content: the entry is reused while its size and
// modification time stay the same. Versions count the contents seen for one
// path (1, 2, ...), as SyncState's version does.
//
// Thread-safety: every method may be called from any thread at once.
#pragma once

#include "fleet/artifact_transfer.hpp"

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace edge::fleet {

class ArtifactCatalog {
 public:
  // The manifest of the file's current content. Throws SyncError naming the
  // file when it cannot be read.
  ArtifactManifest manifest_of_file(const std::filesystem::path& plugin);
  // Records a manifest learnt elsewhere (the desired state of a function
  // whose plugin file is not on this host): its bytes are fetched from the
  // nodes holding them.
  void remember(const ArtifactManifest& manifest);
  // A manifest seen before, by SHA-256.
  std::optional<ArtifactManifest> manifest(std::string_view sha256) const;
  // The file holding this content here, if any (and still holding it).
  std::optional<std::filesystem::path> file_of(std::string_view sha256) const;

 private:
  struct FileEntry {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    ArtifactManifest manifest;
  };
  mutable std::mutex mutex_;
  std::map<std::filesystem::path, FileEntry> files_;
  std::map<std::string, ArtifactManifest, std::less<>> manifests_;     // by sha256
  std::map<std::string, std::filesystem::path, std::less<>> holders_;  // sha256 -> file
};

}  // namespace edge::fleet
