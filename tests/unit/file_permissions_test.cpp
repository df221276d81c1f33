// Refusing plugins that group or others may write, or that sit in a
// directory they may write (sshd's StrictModes, kept simple).
#include "plugin/file_permissions.hpp"
#include "scratch_dir.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using edge::writable_plugin_problem;
using edge::test::ScratchDir;
namespace fs = std::filesystem;

TEST_CASE("a plugin only its owner may write passes") {
  ScratchDir dir("edge-modes");
  const fs::path plugin = dir / "echo.so";
  edge::test::copy_over(edge::test::plugin("echo"), plugin);
  fs::permissions(plugin, fs::perms(0644));
  fs::permissions(dir.path(), fs::perms(0755));
  CHECK_FALSE(writable_plugin_problem(plugin));
}

TEST_CASE("a plugin file writable by others or group is refused, saying how to fix it") {
  ScratchDir dir("edge-modes");
  const fs::path plugin = dir / "echo.so";
  edge::test::copy_over(edge::test::plugin("echo"), plugin);
  fs::permissions(plugin, fs::perms(0666));
  const auto problem = writable_plugin_problem(plugin);
  REQUIRE(problem);
  CHECK(*problem == "plugin " + plugin.string() +
                        " is writable by other users (mode 0666); fix with chmod go-w or set "
                        "security.allow_writable_plugins: true for development");
  fs::permissions(plugin, fs::perms(0664));
  CHECK(writable_plugin_problem(plugin));
}

TEST_CASE("a plugin in a directory writable by others or group is refused, naming the directory") {
  ScratchDir dir("edge-modes");
  const fs::path plugin = dir / "echo.so";
  edge::test::copy_over(edge::test::plugin("echo"), plugin);
  fs::permissions(dir.path(), fs::perms(0777));
  const auto problem = writable_plugin_problem(plugin);
  REQUIRE(problem);
  CHECK(problem->find("is in directory " + dir.path().string() +
                      ", which is writable by other users (mode 0777)") != std::string::npos);
  fs::permissions(dir.path(), fs::perms(0775));
  CHECK(writable_plugin_problem(plugin));
  fs::permissions(dir.path(), fs::perms(0700));
  CHECK_FALSE(writable_plugin_problem(plugin));
}
