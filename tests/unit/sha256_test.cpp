// SHA-256 (OpenSSL EVP, streamed) and the hashing copy the plugin store
// makes: a copy's name is the hash of exactly the bytes it holds.
#include "plugin/sha256.hpp"
#include "plugin/content_copy.hpp"

#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <string>
#include <system_error>

using edge::test::ScratchDir;

TEST_CASE("Sha256 matches the FIPS 180-2 test vectors, streamed or not") {
  edge::Sha256 empty;
  CHECK(empty.hex_digest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  edge::Sha256 abc;
  abc.update("abc");
  CHECK(abc.hex_digest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  edge::Sha256 pieces;
  pieces.update("abcdbcdecdefdefgefghfghighij");
  pieces.update("hijkijkljklmklmnlmnomnopnopq");
  CHECK(pieces.hex_digest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST_CASE("sha256_of_file reads the whole file in chunks and names a missing one") {
  ScratchDir dir("edge-sha256");
  const std::string big(200 * 1024 + 7, 'a');  // several read chunks
  edge::test::write_file(dir / "big", big);
  edge::Sha256 expected;
  expected.update(big);
  CHECK(edge::sha256_of_file(dir / "big") == expected.hex_digest());
  try {
    edge::sha256_of_file(dir / "missing");
    FAIL("expected std::system_error");
  } catch (const std::system_error& error) {
    CHECK(std::string(error.what()).find((dir / "missing").string()) != std::string::npos);
  }
}

TEST_CASE("copy_with_hash writes a read-only copy named by nothing but its hash") {
  ScratchDir dir("edge-copy");
  const std::filesystem::path plugin = edge::test::plugin("echo");
  const edge::ContentCopy copy = edge::copy_with_hash(plugin, dir.path());
  CHECK(copy.stable);
  CHECK(copy.sha256 == edge::sha256_of_file(plugin));
  CHECK(edge::sha256_of_file(copy.temporary) == copy.sha256);
  CHECK(copy.temporary.parent_path() == dir.path());
  struct stat status {};
  REQUIRE(::stat(copy.temporary.c_str(), &status) == 0);
  CHECK((status.st_mode & 0777) == 0500);
  CHECK(copy.identity.size == static_cast<off_t>(std::filesystem::file_size(plugin)));

  // A failed copy leaves nothing behind.
  CHECK_THROWS_AS(edge::copy_with_hash(dir / "missing.so", dir.path()), std::system_error);
  std::size_t files = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir.path()))
    ++files;
  CHECK(files == 1);
}
