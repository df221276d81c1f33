#include "fleet/artifact_catalog.hpp"

#include <edge/models.hpp>

#include <fstream>
#include <iterator>
#include <system_error>

namespace edge::fleet {
namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw SyncError("cannot read plugin " + file.string() + " to ship it to nodes");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

ArtifactManifest ArtifactCatalog::manifest_of_file(const std::filesystem::path& plugin) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(plugin, error);
  const std::filesystem::file_time_type modified =
      error ? std::filesystem::file_time_type{} : std::filesystem::last_write_time(plugin, error);
  if (error) {
    throw SyncError("cannot ship plugin " + plugin.string() + " to nodes: " + error.message());
  }
  std::int64_t version = 1;
  {
    std::lock_guard lock(mutex_);
    const auto known = files_.find(plugin);
    if (known != files_.end()) {
      if (known->second.size == size && known->second.modified == modified)
        return known->second.manifest;
      version = known->second.manifest.version + 1;
    }
  }
  // Hashing a few megabytes takes milliseconds: done outside the lock.
  ArtifactManifest manifest = manifest_of(SyncState::from_data(read_file(plugin), version));
  std::lock_guard lock(mutex_);
  FileEntry& entry = files_[plugin];
  if (entry.manifest.sha256 == manifest.sha256) {  // touched, same bytes: same version
    entry.size = size;
    entry.modified = modified;
    return entry.manifest;
  }
  entry = {size, modified, manifest};
  manifests_[manifest.sha256] = manifest;
  holders_[manifest.sha256] = plugin;
  return manifest;
}

void ArtifactCatalog::remember(const ArtifactManifest& manifest) {
  std::lock_guard lock(mutex_);
  manifests_.try_emplace(manifest.sha256, manifest);
}

std::optional<ArtifactManifest> ArtifactCatalog::manifest(std::string_view sha256) const {
  std::lock_guard lock(mutex_);
  const auto found = manifests_.find(sha256);
  if (found == manifests_.end()) return std::nullopt;
  return found->second;
}

std::optional<std::filesystem::path> ArtifactCatalog::file_of(std::string_view sha256) const {
  std::lock_guard lock(mutex_);
  const auto found = holders_.find(sha256);
  if (found == holders_.end()) return std::nullopt;
  // The file may have changed since it was hashed: serve it only while its
  // size and modification time are the ones hashed (a chunk request must
  // stay cheap: no re-hash here; the fetching node verifies every byte).
  const auto entry = files_.find(found->second);
  std::error_code error;
  if (entry == files_.end() || entry->second.manifest.sha256 != sha256 ||
      std::filesystem::file_size(found->second, error) != entry->second.size || error ||
      std::filesystem::last_write_time(found->second, error) != entry->second.modified || error) {
    return std::nullopt;
  }
  return found->second;
}

}  // namespace edge::fleet
