#include <edge/models.hpp>

#include <doctest/doctest.h>

using edge::SyncState;

TEST_CASE("SyncState checksums its data with MD5 and verifies it") {
  const SyncState empty = SyncState::from_data("", 1);
  CHECK(empty.checksum == "d41d8cd98f00b204e9800998ecf8427e");
  const SyncState state = SyncState::from_data("The quick brown fox jumps over the lazy dog", 7);
  CHECK(state.version == 7);
  CHECK(state.checksum == "9e107d9d372bb6826bd81d3542a419d6");
  CHECK(state.verify());
}

TEST_CASE("SyncState::verify detects a flipped byte and a wrong checksum") {
  SyncState state = SyncState::from_data(std::string(100000, 'x'), 2);
  CHECK(state.verify());
  state.data[5000] = 'y';
  CHECK_FALSE(state.verify());
  state.data[5000] = 'x';
  state.checksum[0] = state.checksum[0] == '0' ? '1' : '0';
  CHECK_FALSE(state.verify());
}
