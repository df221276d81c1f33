// The real edge-sign and edge-host together: keys made and a plugin signed
// with the tool are accepted by `edge-host --check`; a tampered copy, an
// unsigned one or a writable one is refused naming file:line:column; and a
// running host checks signatures at cold start.
#include "child_process.hpp"
#include "host_process.hpp"
#include "http_client.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const std::string kSign = EDGE_SIGN_BINARY;
const std::string kHost = EDGE_HOST_BINARY;
const fs::path kBuiltPlugins = EDGE_TEST_PLUGIN_DIR;

struct Run {
  ChildProcess::Exit exit;
  std::string output;
  std::string errors;
};

Run run(std::vector<std::string> arguments) {
  ChildProcess process(std::move(arguments));
  const ChildProcess::Exit exit = process.wait(10s);
  return {exit, process.output(), process.errors()};
}

void flip_byte(const fs::path& file, std::streamoff offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(offset);
  const int byte = stream.get();
  stream.seekp(offset);
  stream.put(static_cast<char>(~byte));
  REQUIRE(stream.good());
}

// A directory with keys/, plugins/echo.so (signed) and topology.yaml
// requiring signatures by keys/release.pub.
struct SignedSetup {
  TemporaryDirectory dir;
  fs::path plugins = dir.path() / "plugins";
  fs::path plugin = plugins / "echo.so";
  fs::path private_key = dir.path() / "release.pem";
  fs::path public_key = dir.path() / "release.pub";
  fs::path topology = dir.path() / "topology.yaml";

  SignedSetup() {
    fs::create_directory(plugins);
    fs::permissions(plugins, fs::perms(0755));
    fs::copy_file(kBuiltPlugins / "echo.so", plugin);
    const Run keygen =
        run({kSign, "keygen", "--private", private_key.string(), "--public", public_key.string()});
    REQUIRE_MESSAGE(keygen.exit.code == 0, keygen.errors);
    CHECK((fs::status(private_key).permissions() & fs::perms(0077)) == fs::perms::none);
    const Run sign = run({kSign, "sign", "--key", private_key.string(), plugin.string()});
    REQUIRE_MESSAGE(sign.exit.code == 0, sign.errors);
    CHECK(fs::exists(plugin.string() + ".sig"));
    std::ofstream(topology) << "security:\n  trusted_keys: [release.pub]\n"
                               "  require_signatures: true\n"
                               "plugin_dir: plugins\n"
                               "nodes: [{id: node-a}]\n"
                               "functions:\n  - {id: echo, plugin: echo}\n";
  }

  Run verify() const {
    return run({kSign, "verify", "--key", public_key.string(), plugin.string()});
  }
  Run check(std::vector<std::string> more = {}) const {
    std::vector<std::string> arguments{kHost, "--config", topology.string(), "--check"};
    arguments.insert(arguments.end(), more.begin(), more.end());
    return run(arguments);
  }
};

}  // namespace

TEST_CASE("edge-sign keygen + sign: edge-sign verify and edge-host --check accept the plugin") {
  const SignedSetup setup;
  const Run verify = setup.verify();
  CHECK(verify.exit.code == 0);
  CHECK(verify.output.find("ok: " + setup.plugin.string()) == 0);
  const Run check = setup.check();
  CHECK_MESSAGE(check.exit.code == 0, check.errors);
  CHECK(check.output.find("ok: 1 node, 1 function") == 0);
  const Run invoke =
      run({kHost, "--config", setup.topology.string(), "--invoke", "echo", "--input", "signed"});
  CHECK(invoke.output == "signed");
}

TEST_CASE("a tampered copy is refused by edge-sign verify and edge-host --check") {
  const SignedSetup setup;
  flip_byte(setup.plugin, 4096);
  const Run verify = setup.verify();
  CHECK(verify.exit.code == 1);
  CHECK(verify.errors.find("is not a valid signature of " + setup.plugin.string()) !=
        std::string::npos);
  const Run check = setup.check();
  CHECK(check.exit.code == 1);
  CHECK_MESSAGE(
      check.errors.find(setup.topology.string() + ":7:24: functions[0].plugin: plugin "
                                                  "'echo' cannot be used") != std::string::npos,
      check.errors);
  CHECK(check.errors.find("does not verify") != std::string::npos);

  fs::remove(setup.plugin.string() + ".sig");
  CHECK(setup.verify().exit.code == 1);
  CHECK(setup.check().errors.find("not signed") != std::string::npos);
}

TEST_CASE("edge-host --check refuses a writable plugin unless --allow-writable-plugins") {
  const SignedSetup setup;
  fs::permissions(setup.plugin, fs::perms(0666));
  const Run check = setup.check();
  CHECK(check.exit.code == 1);
  CHECK(check.errors.find("is writable by other users (mode 0666); fix with chmod go-w") !=
        std::string::npos);
  CHECK(setup.check({"--allow-writable-plugins"}).exit.code == 0);
}

TEST_CASE("a running host checks the signature at cold start") {
  const SignedSetup setup;
  const std::string topology = "security:\n  trusted_keys: ['" + setup.public_key.string() +
                               "']\n  require_signatures: true\n"
                               "nodes:\n  - id: node-a\nfunctions:\n  - {id: echo, plugin: echo}\n";
  HostProcess host(topology, {"--log-level", "error"}, 20s, setup.plugins.string());
  // Not warm yet: the signature goes away, and the first load is refused.
  fs::remove(setup.plugin.string() + ".sig");
  HttpConnection connection("127.0.0.1", host.port());
  const HttpReply reply = connection.request("POST", "/v1/functions/echo/invoke", "x");
  CHECK(reply.status == 502);
  CHECK(reply.body.find("not signed") != std::string::npos);
  // Signed again: it loads (a signature refusal is not a quarantine).
  const Run sign = run({kSign, "sign", "--key", setup.private_key.string(), setup.plugin.string()});
  REQUIRE(sign.exit.code == 0);
  CHECK(connection.request("POST", "/v1/functions/echo/invoke", "x").body == "x");
  CHECK(host.stop(SIGTERM).code == 0);
}

}  // namespace edge::test
