// The loader fails closed: every malformed plugin is a PluginError naming the
// file and the reason, never a crash.
#include <edge/errors.hpp>
#include <edge/plugin.hpp>
#include <edge/runtime.hpp>

#include "plugin/host_api.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <map>
#include <string>
#include <string_view>

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

// Regression (fuzz_descriptor): C lets a plugin return any int as an
// edge_result and log at any int as an edge_log_level; the host read them as
// its C++ enums (undefined behaviour, reported by UBSan). Unknown results now
// fail the load or the call like EDGE_ERROR, unknown levels log as errors.
namespace {

std::string invoke_odd_results(std::map<std::string, std::string> environment) {
  edge::EdgeRuntime runtime(edge::EdgeNode("n1"));
  edge::EdgeFunction function("odd");
  function.plugin = fixture("odd_results");
  function.environment = std::move(environment);
  runtime.deploy(function);
  return runtime.invoke("odd", "in");
}

int last_plugin_log_level = -1;
void record_level(void*, edge_log_level level, std::string_view, std::string_view) {
  last_plugin_log_level = static_cast<int>(level);
}

}  // namespace

TEST_CASE("an init result outside edge_result fails the load") {
  for (const char* result : {"6", "-1", "255"}) {
    CAPTURE(result);
    CHECK_THROWS_AS(invoke_odd_results({{"INIT_RESULT", result}}), PluginError);
  }
}

TEST_CASE("an invoke result outside edge_result fails the call, not as a timeout") {
  for (const char* result : {"77", "-1", "3"}) {
    CAPTURE(result);
    try {
      invoke_odd_results({{"INVOKE_RESULT", result}});
      FAIL("expected the call to fail");
    } catch (const edge::TimeoutError&) {
      FAIL("an unknown result is not a timeout");
    } catch (const edge::EdgeExecutionError& error) {
      CHECK(std::string(error.what()).find("failed") != std::string::npos);
    }
  }
  CHECK(invoke_odd_results({{"INVOKE_RESULT", "0"}}) == "in");
}

TEST_CASE("a log level outside edge_log_level is logged as an error") {
  edge::set_plugin_log_sink(&record_level, nullptr);
  CHECK(invoke_odd_results({{"LOG_LEVEL", "9"}}) == "in");
  CHECK(last_plugin_log_level == EDGE_LOG_ERROR);
  CHECK(invoke_odd_results({{"LOG_LEVEL", "1"}}) == "in");
  CHECK(last_plugin_log_level == EDGE_LOG_INFO);
  edge::set_plugin_log_sink(nullptr, nullptr);
}
