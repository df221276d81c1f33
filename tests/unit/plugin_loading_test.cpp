// The loader fails closed: every malformed plugin is a PluginError naming the
// file and the reason, never a crash.
#include <edge/errors.hpp>
#include <edge/plugin.hpp>

#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <string>

using edge::PluginError;
using edge::test::fixture;
using edge::test::plugin;

namespace {

std::string inspect_error(const std::filesystem::path& file) {
  try {
    edge::inspect_plugin(file);
  } catch (const PluginError& error) {
    return error.what();
  }
  FAIL("expected a PluginError for " << file);
  return {};
}

}  // namespace

TEST_CASE("inspect_plugin reads a good descriptor") {
  const edge::PluginInfo info = edge::inspect_plugin(plugin("echo"));
  CHECK(info.name == "echo");
  CHECK(info.version == "1.0.0");
  CHECK_FALSE(info.description.empty());
  CHECK_FALSE(info.serial);
  const edge::PluginInfo sleep = edge::inspect_plugin(plugin("sleep"));
  CHECK(sleep.default_timeout_ms == 30000);
}

TEST_CASE("each malformed plugin is refused with a message naming file and reason") {
  struct Case {
    const char* fixture;
    const char* reason;
  };
  const Case cases[] = {
      {"wrong_abi", "ABI version mismatch: the host expects 1, the plugin was built for 42"},
      {"missing_symbol", "does not export the entry symbol 'edge_plugin_entry'"},
      {"null_descriptor", "returned a null descriptor"},
      {"undersized", "descriptor too small: struct_size is 8 bytes"},
      {"no_invoke", "descriptor has no invoke hook"},
      {"not_elf", "cannot be loaded as a shared library"},
      {"truncated", "cannot be loaded as a shared library"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.fixture);
    const std::string message = inspect_error(fixture(c.fixture));
    CHECK(message.find(fixture(c.fixture).string()) != std::string::npos);
    CHECK(message.find(c.reason) != std::string::npos);
  }
}

TEST_CASE("a missing file is refused, not crashed on") {
  const std::string message = inspect_error("/nonexistent/dir/ghost.so");
  CHECK(message.find("/nonexistent/dir/ghost.so") != std::string::npos);
  CHECK(message.find("no such file") != std::string::npos);
}
