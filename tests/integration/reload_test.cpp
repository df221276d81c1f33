// The running daemon follows its files: a plugin replaced in the plugin
// directory is the next cold start while calls keep succeeding, a broken
// replacement is refused while the old version serves on, a removed file
// leaves a warm function serving, and SIGHUP reconciles the topology (a bad
// file changes nothing).
#include "host_process.hpp"
#include "http_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

const fs::path kBuiltPlugins = EDGE_TEST_PLUGIN_DIR;

// Puts `source` at `target` the way people do: copy to a temporary name in
// the same directory, then rename over (atomic for readers).
void install_plugin(const fs::path& source, const fs::path& target) {
  const fs::path temporary = target.parent_path() / (".incoming-" + target.filename().string());
  fs::copy_file(source, temporary, fs::copy_options::overwrite_existing);
  fs::rename(temporary, target);
}

template <typename Done>
bool eventually(Done done, std::chrono::milliseconds timeout = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::string invoke(std::uint16_t port, const std::string& function, const std::string& input) {
  HttpConnection connection("127.0.0.1", port);
  const HttpReply reply =
      connection.request("POST", "/v1/functions/" + function + "/invoke", input);
  return std::to_string(reply.status) + " " + reply.body;
}

}  // namespace

TEST_CASE(
    "replacing a plugin file hot-reloads it with no failed call; removing it keeps the warm copy") {
  TemporaryDirectory plugins;
  const fs::path plugin = plugins.path() / "worker.so";
  install_plugin(kBuiltPlugins / "echo.so", plugin);
  HostProcess host("nodes:\n  - id: node-a\nfunctions:\n  - {id: worker, plugin: worker}\n",
                   {"--log-level", "warn"}, 20s, plugins.path().string());
  REQUIRE(invoke(host.port(), "worker", "ping") == "200 ping");

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> calls{0};
  std::thread caller([&] {
    HttpConnection connection("127.0.0.1", host.port());
    while (!stop) {
      const HttpReply reply = connection.request("POST", "/v1/functions/worker/invoke", "x");
      if (reply.status != 200) ++failures;
      ++calls;
    }
  });
  // counter answers "1", "2", ...; echo answers "x": the behaviour shows the version.
  install_plugin(kBuiltPlugins / "counter.so", plugin);
  CHECK(eventually([&] { return invoke(host.port(), "worker", "x") != "200 x"; }));
  install_plugin(kBuiltPlugins / "echo.so", plugin);
  CHECK(eventually([&] { return invoke(host.port(), "worker", "x") == "200 x"; }));
  stop = true;
  caller.join();
  CHECK(calls > 0);
  CHECK(failures == 0);

  fs::remove(plugin);
  std::this_thread::sleep_for(300ms);  // longer than the watcher's settle time
  CHECK(invoke(host.port(), "worker", "still") == "200 still");  // warm: keeps serving
  CHECK(host.stop(SIGTERM).code == 0);
}

TEST_CASE(
    "a plugin failing its checks is quarantined, shown in the function's status, and retried when "
    "the file changes") {
  TemporaryDirectory plugins;
  const fs::path plugin = plugins.path() / "worker.so";
  install_plugin(kBuiltPlugins / "echo.so", plugin);
  HostProcess host("nodes:\n  - id: node-a\nfunctions:\n  - {id: worker, plugin: worker}\n",
                   {"--log-level", "error"}, 20s, plugins.path().string());
  // Not warm yet, so no old version to keep: the broken file is refused as a
  // replacement, but the next cold start can only load what the file holds.
  install_plugin(fs::path(EDGE_TEST_FIXTURE_DIR) / "wrong_abi.so", plugin);
  std::string first;
  CHECK(eventually(
      [&] { return (first = invoke(host.port(), "worker", "x")).rfind("502", 0) == 0; }));
  CHECK(first.find("ABI version mismatch") != std::string::npos);
  const std::string again = invoke(host.port(), "worker", "x");
  CHECK(again.find("quarantined") != std::string::npos);  // fails fast, without loading
  {
    HttpConnection connection("127.0.0.1", host.port());
    const nlohmann::json status =
        nlohmann::json::parse(connection.request("GET", "/v1/functions/worker").body);
    REQUIRE(status.contains("quarantine"));
    CHECK(status["quarantine"]["sha256"].get<std::string>().size() == 64);
    CHECK(status["quarantine"]["reason"].get<std::string>().find("ABI version mismatch") !=
          std::string::npos);
  }
  install_plugin(kBuiltPlugins / "echo.so", plugin);  // new content: retried
  CHECK(eventually([&] { return invoke(host.port(), "worker", "back") == "200 back"; }));
  CHECK(host.stop(SIGTERM).code == 0);
}

TEST_CASE(
    "a broken replacement of a warm plugin is refused: zero failed calls, the old version serves "
    "on") {
  TemporaryDirectory plugins;
  const fs::path plugin = plugins.path() / "worker.so";
  install_plugin(kBuiltPlugins / "echo.so", plugin);
  HostProcess host("nodes:\n  - id: node-a\nfunctions:\n  - {id: worker, plugin: worker}\n",
                   {"--log-level", "error"}, 20s, plugins.path().string());
  REQUIRE(invoke(host.port(), "worker", "x") == "200 x");

  std::atomic<bool> stop{false};
  std::atomic<int> failures{0};
  std::atomic<int> calls{0};
  std::string first_failure;
  std::thread caller([&] {
    HttpConnection connection("127.0.0.1", host.port());
    while (!stop) {
      const HttpReply reply = connection.request("POST", "/v1/functions/worker/invoke", "x");
      if (reply.status != 200 || reply.body != "x") {
        if (failures++ == 0) first_failure = std::to_string(reply.status) + " " + reply.body;
      }
      ++calls;
    }
  });
  const auto rejected_sha256 = [&] {
    HttpConnection connection("127.0.0.1", host.port());
    const nlohmann::json status =
        nlohmann::json::parse(connection.request("GET", "/v1/functions/worker").body);
    return status.contains("rejected_replacement")
               ? status["rejected_replacement"]["sha256"].get<std::string>()
               : std::string();
  };
  for (const char* broken : {"not_elf.so", "truncated.so", "wrong_abi.so"}) {
    const std::string before = rejected_sha256();
    install_plugin(fs::path(EDGE_TEST_FIXTURE_DIR) / broken, plugin);
    // The watcher tries the new content, refuses and quarantines it.
    CHECK_MESSAGE(eventually([&] {
                    const std::string now = rejected_sha256();
                    return !now.empty() && now != before;
                  }),
                  broken);
    const int calls_before = calls;
    CHECK(eventually([&] { return calls > calls_before + 20; }));
  }
  {
    HttpConnection connection("127.0.0.1", host.port());
    const nlohmann::json status =
        nlohmann::json::parse(connection.request("GET", "/v1/functions/worker").body);
    CHECK(status["rejected_replacement"]["reason"].get<std::string>().find(
              "ABI version mismatch") != std::string::npos);
    CHECK_FALSE(status.contains("quarantine"));  // the function itself is fine
  }
  stop = true;
  caller.join();
  CHECK(calls > 60);
  CHECK(failures == 0);
  if (failures != 0) MESSAGE(first_failure);
  // A good file switches.
  install_plugin(kBuiltPlugins / "counter.so", plugin);
  CHECK(eventually([&] { return invoke(host.port(), "worker", "x") == "200 1"; }));
  CHECK(host.stop(SIGTERM).code == 0);
}

TEST_CASE("SIGHUP reconciles the topology; a bad file is rejected and changes nothing") {
  HostProcess host("nodes:\n  - id: node-a\nfunctions:\n  - {id: echo, plugin: echo}\n");
  REQUIRE(invoke(host.port(), "echo", "a") == "200 a");

  std::ofstream(host.config()) << "nodes:\n  - id: node-a\n  - id: node-b\n"
                                  "functions:\n  - {id: upper, plugin: reverse}\n"
                                  "  - {id: counter, plugin: counter, placement: least_loaded}\n";
  // reverse.so is built only with cargo; fall back to a file every build has.
  if (!fs::exists(kBuiltPlugins / "reverse.so")) {
    std::ofstream(host.config()) << "nodes:\n  - id: node-a\n  - id: node-b\n"
                                    "functions:\n  - {id: upper, plugin: env}\n"
                                    "  - {id: counter, plugin: counter, placement: least_loaded}\n";
  }
  host.process().send_signal(SIGHUP);
  CHECK(eventually([&] { return invoke(host.port(), "counter", "") == "200 1"; }));
  CHECK(invoke(host.port(), "echo", "a").rfind("404", 0) == 0);  // removed
  {
    HttpConnection connection("127.0.0.1", host.port());
    const nlohmann::json nodes = nlohmann::json::parse(connection.request("GET", "/v1/nodes").body);
    CHECK(nodes["nodes"].size() == 2);
  }

  std::ofstream(host.config()) << "nodes: [unclosed\n";
  host.process().send_signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  CHECK(invoke(host.port(), "counter", "") == "200 2");  // same instance: nothing was touched
  CHECK(host.stop(SIGTERM).code == 0);
}

}  // namespace edge::test
