// Hot reload: replacing a plugin file under load redeploys its functions
// with no failed call; a broken, unsigned or unpinned replacement is refused
// and the old version serves on; removing it leaves warm copies serving and
// makes the next cold start fail clearly; an unchanged content redeploys
// nothing.
#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/hot_reload.hpp>
#include <edge/plugin_store.hpp>

#include "plugin/sha256.hpp"
#include "scratch_dir.hpp"
#include "signing_helpers.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace edge;
using namespace std::chrono_literals;
using edge::test::fixture;
using edge::test::plugin;
using edge::test::ScratchDir;

namespace {

std::unique_ptr<EdgeCluster> cluster_with_store(PluginStoreOptions store_options = {}) {
  ClusterOptions options;
  options.plugin_store = std::make_shared<PluginStore>(std::move(store_options));
  auto cluster = std::make_unique<EdgeCluster>(options);
  cluster->register_node(EdgeNode("node-1"));
  return cluster;
}

EdgeFunction function_on(const std::string& id, const std::filesystem::path& file) {
  EdgeFunction function{id};
  function.plugin = file;
  return function;
}

template <class Call>
std::string plugin_error_of(Call&& call) {
  try {
    call();
  } catch (const PluginError& error) {
    return error.what();
  }
  FAIL("expected a PluginError");
  return {};
}

// Collects hot-reload reports for the test thread to wait on.
class ReportLog {
 public:
  PluginHotReload::Report callback() {
    return [this](const PluginReloadReport& report) {
      std::lock_guard lock(mutex_);
      reports_.push_back(report);
      changed_.notify_all();
    };
  }
  // Waits (5 s at most) for `count` reports that redeployed something. A
  // replacement may also raise a second event whose report finds the content
  // already running ("unchanged"): those are not counted, so a late
  // redeploy is never cut off by them.
  std::vector<PluginReloadReport> wait_for_redeploys(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] {
      return static_cast<std::size_t>(std::count_if(reports_.begin(), reports_.end(),
                                                    [](const PluginReloadReport& report) {
                                                      return !report.redeployed.empty();
                                                    })) >= count;
    });
    return reports_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<PluginReloadReport> reports_;
};

}  // namespace

TEST_CASE("20 replacements under two busy callers: zero failed calls, every one deployed") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "hot.so";
  edge::test::copy_over(plugin("counter"), file);
  auto cluster = cluster_with_store();
  cluster->deploy_to_all(function_on("hot", file));
  // Warm before the first replacement: a first cold start racing with it
  // could load the new content directly, and two replacements would then
  // fall into one settle period (one report for two switches).
  CHECK(cluster->invoke("hot", "x") == "1");
  ReportLog log;
  PluginHotReload hot_reload(*cluster, dir.path(), log.callback(), PluginWatcherOptions{50ms});
  hot_reload.start();

  // Two callers keep the function busy through every switch: none of their
  // calls may fail.
  std::atomic<std::uint64_t> calls{0};
  std::atomic<bool> stop{false};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  const auto caller = [&] {
    while (!stop.load()) {
      try {
        cluster->invoke("hot", "x");
        calls.fetch_add(1);
      } catch (const std::exception& error) {
        std::lock_guard lock(failures_mutex);
        failures.emplace_back(error.what());
      }
    }
  };
  std::thread first(caller);
  std::thread second(caller);

  // Each replacement is reported as one redeploy before the next is written
  // (two writes within one settle period would rightly be one report), and
  // a call made after that report runs the new content: echo answers the
  // input, counter a number.
  int switched = 0;
  for (std::size_t i = 0; i < 20; ++i) {
    const bool to_echo = i % 2 == 0;
    const std::filesystem::path source = plugin(to_echo ? "echo" : "counter");
    if (i % 4 < 2) {
      edge::test::copy_over(source, file);
    } else {
      edge::test::move_into_place(source, file);
    }
    log.wait_for_redeploys(i + 1);
    if ((cluster->invoke("hot", "x") == "x") == to_echo) ++switched;
  }
  stop.store(true);
  first.join();
  second.join();
  hot_reload.stop();

  CHECK(switched == 20);
  CHECK(failures.empty());
  for (const std::string& failure : failures) MESSAGE(failure);
  CHECK(calls.load() > 100);
  std::size_t redeploys = 0;
  const std::vector<PluginReloadReport> reports = log.wait_for_redeploys(20);
  for (const PluginReloadReport& report : reports) {
    CHECK(report.error.empty());
    if (!report.redeployed.empty()) {
      ++redeploys;
    } else {
      CHECK(report.unchanged == std::vector<std::string>{"hot"});
    }
  }
  CHECK(redeploys == 20);
  if (redeploys != 20) {
    for (const PluginReloadReport& report : reports) MESSAGE(report.to_string());
  }
  CHECK(cluster->function_stats("hot").at(0).second.plugin_sha256 ==
        sha256_of_file(plugin("counter")));
}

TEST_CASE(
    "a removed plugin file: warm copies serve on, the next cold start says the file is missing") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "gone.so";
  edge::test::copy_over(plugin("echo"), file);
  auto cluster = cluster_with_store();
  cluster->deploy_least_loaded(function_on("gone", file));
  cluster->deploy_least_loaded(function_on("idle", file));
  CHECK(cluster->invoke("gone", "still") == "still");

  std::filesystem::remove(file);
  const PluginReloadReport removed = apply_plugin_change(*cluster, file, PluginFileChange::Removed);
  CHECK(removed.still_warm == std::vector<std::string>{"gone"});
  CHECK(removed.not_loaded == std::vector<std::string>{"idle"});
  CHECK(removed.to_string().find("removed") != std::string::npos);
  CHECK(cluster->invoke("gone", "still") == "still");  // warm: keeps serving

  const std::string cold = plugin_error_of([&] { cluster->invoke("idle", "x"); });
  CHECK(cold.find("plugin file not found") != std::string::npos);
  CHECK(cold.find(file.string()) != std::string::npos);

  // Placing it again (a failover, here to a new node) is not refused
  // because the file is gone; that copy's cold start reports it.
  cluster->register_node(EdgeNode("node-2"));
  CHECK(cluster->deregister_node("node-1"));
  CHECK(cluster->nodes_running("gone") == std::vector<std::string>{"node-2"});
  CHECK(plugin_error_of([&] { cluster->invoke("gone", "x"); }).find("plugin file not found") !=
        std::string::npos);
  const auto stats = cluster->function_stats("gone");
  REQUIRE(stats.size() == 1);
  CHECK(stats[0].second.last_error.find("plugin file not found") != std::string::npos);

  // The file comes back: the next call loads it.
  edge::test::copy_over(plugin("counter"), file);
  const PluginReloadReport back = apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(back.redeployed.size() == 2);
  CHECK(cluster->invoke("gone", "x") == "1");
}

TEST_CASE("the same content again (touch, or the same bytes copied over) redeploys nothing warm") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "same.so";
  edge::test::copy_over(plugin("counter"), file);
  auto cluster = cluster_with_store();
  cluster->deploy_to_all(function_on("same", file));
  CHECK(cluster->invoke("same") == "1");
  edge::test::copy_over(plugin("counter"), file);
  const PluginReloadReport report = apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(report.redeployed.empty());
  CHECK(report.unchanged == std::vector<std::string>{"same"});
  CHECK(report.sha256 == sha256_of_file(plugin("counter")));
  CHECK(cluster->invoke("same") == "2");  // the same instance: not reloaded

  const PluginReloadReport unused =
      apply_plugin_change(*cluster, dir / "other.so", PluginFileChange::Written);
  CHECK_FALSE(unused.names_functions());
  CHECK_FALSE(unused.error.empty());  // it does not exist
}

TEST_CASE("a quarantined plugin replaced by a good one serves again") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "q.so";
  edge::test::copy_over(fixture("wrong_abi"), file);
  auto cluster = cluster_with_store();
  cluster->deploy_to_all(function_on("q", file));
  CHECK(plugin_error_of([&] { cluster->invoke("q"); }).find("ABI version mismatch") !=
        std::string::npos);
  CHECK(plugin_error_of([&] { cluster->invoke("q"); }).find("quarantined") != std::string::npos);
  CHECK(cluster->function_stats("q").at(0).second.quarantined);

  edge::test::move_into_place(plugin("echo"), file);
  const PluginReloadReport report = apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(report.redeployed == std::vector<std::string>{"q"});
  CHECK(cluster->invoke("q", "ok") == "ok");
  CHECK_FALSE(cluster->function_stats("q").at(0).second.quarantined);
}

TEST_CASE("hot reload needs a plugin store") {
  EdgeCluster cluster;
  CHECK_THROWS_AS(PluginHotReload(cluster, "/tmp", nullptr), std::invalid_argument);
}

TEST_CASE(
    "a warm plugin replaced by a broken file keeps serving its old version; a good file switches") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "warm.so";
  edge::test::copy_over(plugin("counter"), file);
  auto cluster = cluster_with_store();
  cluster->deploy_to_all(function_on("warm", file));
  CHECK(cluster->invoke("warm") == "1");

  int expected = 1;
  for (const char* broken : {"not_elf", "truncated", "wrong_abi"}) {
    CAPTURE(broken);
    edge::test::move_into_place(fixture(broken), file);
    const PluginReloadReport report =
        apply_plugin_change(*cluster, file, PluginFileChange::Written);
    CHECK(report.redeployed.empty());
    CHECK(report.kept == std::vector<std::string>{"warm"});
    CHECK(report.sha256 == sha256_of_file(fixture(broken)));
    // The error names the file, the hash and the reason.
    CHECK(report.error.find("plugin " + file.string() + " (sha256 " + report.sha256 + "): ") == 0);
    CHECK(report.to_string().find("replacement refused, warm keep their current version") !=
          std::string::npos);
    // The same instance answers: its counter goes on.
    CHECK(cluster->invoke("warm") == std::to_string(++expected));
    const FunctionStats stats = cluster->function_stats("warm").at(0).second;
    CHECK(stats.rejected_replacement_sha256 == report.sha256);
    CHECK_FALSE(stats.rejected_replacement_reason.empty());
    CHECK_FALSE(stats.quarantined);
    CHECK(stats.plugin_sha256 == sha256_of_file(plugin("counter")));
  }
  CHECK(cluster->function_stats("warm").at(0).second.rejected_replacement_reason.find(
            "ABI version mismatch") != std::string::npos);
  CHECK(cluster->plugin_store()->quarantined().size() == 3);  // each bad content, by hash

  edge::test::move_into_place(plugin("echo"), file);
  const PluginReloadReport good = apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(good.error.empty());
  CHECK(good.redeployed == std::vector<std::string>{"warm"});
  CHECK(cluster->invoke("warm", "new") == "new");
  CHECK(cluster->function_stats("warm").at(0).second.rejected_replacement_sha256.empty());
}

TEST_CASE("a replacement that does not match a function's pin does not redeploy that function") {
  ScratchDir dir("edge-hot");
  const std::filesystem::path file = dir / "pinned.so";
  edge::test::copy_over(plugin("counter"), file);
  auto cluster = cluster_with_store();
  EdgeFunction pinned = function_on("pinned", file);
  pinned.plugin_sha256 = sha256_of_file(plugin("counter"));
  cluster->deploy_to_all(pinned);
  cluster->deploy_to_all(function_on("free", file));
  CHECK(cluster->invoke("pinned") == "1");
  CHECK(cluster->invoke("free") == "1");

  edge::test::move_into_place(plugin("echo"), file);
  const PluginReloadReport report = apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(report.redeployed == std::vector<std::string>{"free"});
  CHECK(report.pinned_elsewhere == std::vector<std::string>{"pinned"});
  CHECK(report.refused());
  CHECK(report.to_string().find("not redeployed (pinned): plugin " + file.string() +
                                " has sha256 " + report.sha256 + ", but function 'pinned' pins " +
                                pinned.plugin_sha256) != std::string::npos);
  CHECK(cluster->invoke("pinned") == "2");  // the old, warm version
  CHECK(cluster->invoke("free", "e") == "e");
}

TEST_CASE("with require_signatures, an unsigned replacement waits for its signature") {
  ScratchDir dir("edge-hot");
  ScratchDir keys("edge-keys");
  const edge::test::KeyPair trusted(keys.path(), "trusted");
  const std::filesystem::path file = dir / "signed.so";
  edge::test::copy_over(plugin("counter"), file);
  trusted.sign(file);
  PluginStoreOptions options;
  options.security.trusted_keys = {trusted.public_file};
  options.security.require_signatures = true;
  auto cluster = cluster_with_store(options);
  cluster->deploy_to_all(function_on("signed", file));
  CHECK(cluster->invoke("signed") == "1");

  // The new plugin arrives first; its old signature does not cover it.
  edge::test::move_into_place(plugin("echo"), file);
  const PluginReloadReport unsigned_report =
      apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(unsigned_report.kept == std::vector<std::string>{"signed"});
  CHECK(unsigned_report.error.find("does not verify") != std::string::npos);
  CHECK(cluster->invoke("signed") == "2");
  CHECK(cluster->plugin_store()->quarantined().empty());  // the content may be fine

  // Its signature follows (the watcher reports x.so.sig as x.so).
  trusted.sign(file);
  const PluginReloadReport signed_report =
      apply_plugin_change(*cluster, file, PluginFileChange::Written);
  CHECK(signed_report.redeployed == std::vector<std::string>{"signed"});
  CHECK(cluster->invoke("signed", "s") == "s");
}
