// The node host's artifact directory: verified bytes land read-only under
// their SHA-256, whole or not at all.
#include "fleet/artifact_directory.hpp"

#include "scratch_dir.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>
#include <system_error>

using edge::fleet::ArtifactDirectory;

TEST_CASE("artifact directory: a written artifact is read-only under its sha256, nothing else") {
  edge::test::ScratchDir scratch("edge-artifacts");
  const ArtifactDirectory artifacts(scratch / "store" / "plugins");
  const std::string sha256(64, 'a');
  CHECK_FALSE(artifacts.find(sha256));
  CHECK(artifacts.path_of(sha256) == scratch / "store" / "plugins" / (sha256 + ".so"));

  const std::filesystem::path file = artifacts.write(sha256, std::string("\x7f"
                                                                         "ELF\0bytes",
                                                                         9));
  CHECK(file == artifacts.path_of(sha256));
  REQUIRE(artifacts.find(sha256) == file);
  CHECK(edge::test::file_bytes(file) == std::string("\x7f"
                                                    "ELF\0bytes",
                                                    9));
  struct stat status {};
  REQUIRE(::stat(file.c_str(), &status) == 0);
  CHECK((status.st_mode & 07777) == 0444);
  // Written again (two fetches of the same content): still one whole file.
  artifacts.write(sha256, std::string("\x7f"
                                      "ELF\0bytes",
                                      9));
  CHECK(std::distance(std::filesystem::directory_iterator(artifacts.directory()),
                      std::filesystem::directory_iterator()) == 1);
}

TEST_CASE("artifact directory: a failed write names the file and leaves nothing behind") {
  edge::test::ScratchDir scratch("edge-artifacts");
  const ArtifactDirectory artifacts(scratch / "plugins");
  const std::string sha256(64, 'b');
  // A directory where the file should go: the rename fails (even for root).
  std::filesystem::create_directory(artifacts.path_of(sha256));
  std::filesystem::create_directory(artifacts.path_of(sha256) / "occupied");
  try {
    artifacts.write(sha256, "bytes");
    FAIL("expected a system_error");
  } catch (const std::system_error& error) {
    CHECK(std::string(error.what()).find(" to " + artifacts.path_of(sha256).string()) !=
          std::string::npos);
  }
  CHECK(std::distance(std::filesystem::directory_iterator(artifacts.directory()),
                      std::filesystem::directory_iterator()) == 1);
}
