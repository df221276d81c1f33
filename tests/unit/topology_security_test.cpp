// The topology's integrity keys: a function's sha256 pin and the security
// section (trusted keys, require_signatures, allow_writable_plugins), each
// checked at load so that `edge-host --check` reports it with line:column.
#include <edge/errors.hpp>
#include <edge/topology.hpp>

#include "plugin/sha256.hpp"
#include "scratch_dir.hpp"
#include "signing_helpers.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <string>

using edge::test::KeyPair;
using edge::test::ScratchDir;
namespace fs = std::filesystem;

namespace {

// A directory holding a copy of echo.so and a topology using it.
struct Setup {
  ScratchDir dir{"edge-topology-security"};
  fs::path plugin = dir / "echo.so";
  std::string echo_hash = edge::sha256_of_file(edge::test::plugin("echo"));

  Setup() { edge::test::copy_over(edge::test::plugin("echo"), plugin); }

  fs::path write(const std::string& yaml) const {
    fs::path file = dir / "topology.yaml";
    edge::test::write_file(file, yaml);
    return file;
  }
};

// "line:column: message" of the ConfigError loading `file`.
std::string error_of(const fs::path& file, const edge::TopologyOptions& options = {}) {
  try {
    edge::load_topology(file, options);
  } catch (const edge::ConfigError& error) {
    const std::string what = error.what();
    REQUIRE(what.rfind(file.string() + ":", 0) == 0);
    return what.substr(file.string().size() + 1);
  }
  FAIL("expected a ConfigError");
  return {};
}

std::string upper(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char character) {
    return static_cast<char>(std::toupper(character));
  });
  return text;
}

}  // namespace

TEST_CASE("sha256 pins the function's plugin; upper case is normalised") {
  const Setup setup;
  const edge::Topology topology = edge::load_topology(setup.write(
      "functions:\n  - {id: f, plugin: echo, sha256: " + upper(setup.echo_hash) + "}\n"));
  REQUIRE(topology.functions.size() == 1);
  CHECK(topology.functions[0].function.plugin_sha256 == setup.echo_hash);
  CHECK(edge::load_topology(setup.write("functions:\n  - {id: f, plugin: echo}\n"))
            .functions[0]
            .function.plugin_sha256.empty());
}

TEST_CASE("a malformed sha256 or one the plugin does not have is an error at its position") {
  const Setup setup;
  CHECK(error_of(setup.write("functions:\n  - {id: f, plugin: echo, sha256: abc}\n")) ==
        "2:35: functions[0].sha256: expected a SHA-256 of 64 hex digits (the plugin content's "
        "pin, as sha256sum prints it), got \"abc\"");
  CHECK(error_of(setup.write("functions:\n  - {id: f, plugin: echo, sha256: " +
                             std::string(63, 'a') + "g}\n"))
            .find("expected a SHA-256 of 64 hex digits") != std::string::npos);
  const std::string other = edge::sha256_of_file(edge::test::plugin("counter"));
  CHECK(error_of(
            setup.write("functions:\n  - id: f\n    plugin: echo\n    sha256: " + other + "\n")) ==
        "4:13: functions[0].sha256: plugin " + setup.plugin.string() + " has sha256 " +
            setup.echo_hash + ", but function 'f' pins " + other);
}

TEST_CASE("the security section: keys relative to the file, defaults, and bad values") {
  const Setup setup;
  const KeyPair key(setup.dir.path(), "release");
  const edge::Topology defaults = edge::load_topology(setup.write(""));
  CHECK(defaults.security == edge::PluginSecurityPolicy{});

  const edge::Topology full = edge::load_topology(
      setup.write("security:\n  trusted_keys: [release.pub]\n  require_signatures: false\n"
                  "  allow_writable_plugins: true\n"));
  CHECK(full.security.trusted_keys == std::vector<fs::path>{key.public_file});
  CHECK(full.security.allow_writable_plugins);
  CHECK_FALSE(full.security.require_signatures);

  CHECK(error_of(setup.write("security: {require_signatures: yes}\n")) ==
        "1:32: security.require_signatures: expected true or false, got the boolean yes");
  CHECK(error_of(setup.write("security: {require_signatures: true}\n"))
            .find("1:32: security.require_signatures: true needs at least one key") == 0);
  CHECK(error_of(setup.write("security:\n  trusted_keys: [missing.pub]\n"))
            .find("2:18: security.trusted_keys[0]: cannot open " +
                  (setup.dir / "missing.pub").string()) == 0);
  CHECK(error_of(setup.write("security: {trusted_keys: [topology.yaml]}\n"))
            .find("expected an Ed25519 public key") != std::string::npos);
  CHECK(error_of(setup.write("security: {strict: true}\n"))
            .find("unknown key 'strict' in security") != std::string::npos);
}

TEST_CASE("require_signatures: a signed plugin loads; unsigned or tampered is an error at plugin") {
  const Setup setup;
  const KeyPair key(setup.dir.path(), "release");
  const std::string yaml =
      "security: {trusted_keys: [release.pub], require_signatures: true}\n"
      "functions:\n  - {id: f, plugin: echo}\n";
  CHECK(error_of(setup.write(yaml))
            .find("3:21: functions[0].plugin: plugin 'echo' cannot be "
                  "used: plugin " +
                  setup.plugin.string() + ": not signed") == 0);
  key.sign(setup.plugin);
  CHECK(edge::load_topology(setup.write(yaml)).functions.size() == 1);
  edge::test::flip_byte(setup.plugin, 2000);
  CHECK(error_of(setup.write(yaml)).find("does not verify") != std::string::npos);
}

TEST_CASE("a writable plugin or plugin directory is refused unless allowed") {
  const Setup setup;
  const std::string yaml = "functions:\n  - {id: f, plugin: echo}\n";
  fs::permissions(setup.plugin, fs::perms(0666));
  CHECK(error_of(setup.write(yaml)) ==
        "2:21: functions[0].plugin: plugin 'echo' cannot be used: plugin " + setup.plugin.string() +
            " is writable by other users (mode 0666); fix with chmod go-w or set "
            "security.allow_writable_plugins: true for development");
  CHECK(edge::load_topology(setup.write("security: {allow_writable_plugins: true}\n" + yaml))
            .security.allow_writable_plugins);
  edge::TopologyOptions allow;
  allow.allow_writable_plugins = true;  // edge-host --allow-writable-plugins
  CHECK(edge::load_topology(setup.write(yaml), allow).functions.size() == 1);

  fs::permissions(setup.plugin, fs::perms(0644));
  fs::permissions(setup.dir.path(), fs::perms(0777));
  CHECK(error_of(setup.write(yaml)).find("which is writable by other users (mode 0777)") !=
        std::string::npos);
  fs::permissions(setup.dir.path(), fs::perms(0755));
  CHECK(edge::load_topology(setup.write(yaml)).functions.size() == 1);
}
