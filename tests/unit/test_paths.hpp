// Where the tests find built plugins and fixtures.
#pragma once

#include <filesystem>
#include <string>

namespace edge::test {

inline std::filesystem::path plugin(const std::string& name) {
  return std::filesystem::path(EDGE_TEST_PLUGIN_DIR) / (name + ".so");
}
inline std::filesystem::path fixture(const std::string& name) {
  return std::filesystem::path(EDGE_TEST_FIXTURE_DIR) / (name + ".so");
}

}  // namespace edge::test
