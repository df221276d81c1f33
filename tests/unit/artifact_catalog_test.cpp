#include "fleet/artifact_catalog.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "scratch_dir.hpp"

namespace edge {
namespace {

TEST_CASE(
    "ArtifactCatalog: one manifest per content, versions count contents, stale files not served") {
  test::ScratchDir dir("edge-catalog");
  const std::filesystem::path plugin = dir / "echo.so";
  test::write_file(plugin, "first content");
  fleet::ArtifactCatalog catalog;

  const fleet::ArtifactManifest first = catalog.manifest_of_file(plugin);
  CHECK(first.version == 1);
  CHECK(first.size == 13);
  CHECK(first.sha256.size() == 64);
  CHECK(first.md5 == SyncState::from_data("first content", 1).checksum);
  CHECK(catalog.manifest_of_file(plugin).sha256 == first.sha256);  // cached
  CHECK(catalog.file_of(first.sha256) == plugin);
  CHECK(catalog.manifest(first.sha256)->size == 13);

  test::write_file(plugin, "second, longer content");
  const fleet::ArtifactManifest second = catalog.manifest_of_file(plugin);
  CHECK(second.version == 2);
  CHECK(second.sha256 != first.sha256);
  CHECK_FALSE(catalog.file_of(first.sha256));  // the file no longer holds it
  CHECK(catalog.file_of(second.sha256) == plugin);

  // Changed behind the catalogue's back: not served until hashed again.
  test::write_file(plugin, "third content, not hashed yet");
  CHECK_FALSE(catalog.file_of(second.sha256));

  CHECK_THROWS_AS(catalog.manifest_of_file(dir / "missing.so"), fleet::SyncError);
}

}  // namespace
}  // namespace edge
