// PluginWatcher: one report per finished change of a *.so file (cp over it,
// mv into place, rm), none for other files; and its debouncing on a fake clock.
#include <edge/plugin_watcher.hpp>

#include "scratch_dir.hpp"
#include "test_paths.hpp"
#include "watch/change_debouncer.hpp"

#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

using namespace std::chrono_literals;
using edge::ChangeDebouncer;
using edge::PluginFileChange;
using edge::test::plugin;
using edge::test::ScratchDir;

namespace {

// Collects the watcher's reports for the test thread to wait on.
class Reports {
 public:
  edge::PluginWatcher::Callback callback() {
    return [this](const std::filesystem::path& file, PluginFileChange change) {
      std::lock_guard lock(mutex_);
      reports_.emplace_back(file, change);
      changed_.notify_all();
    };
  }
  // Waits until `count` reports arrived (or 5 s passed); returns them all.
  std::vector<std::pair<std::filesystem::path, PluginFileChange>> wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait_for(lock, 5s, [&] { return reports_.size() >= count; });
    return reports_;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return reports_.size();
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::pair<std::filesystem::path, PluginFileChange>> reports_;
};

// Short settle times keep the tests quick; copies here take microseconds.
constexpr edge::PluginWatcherOptions kFast{50ms, 2s};

edge::FileIdentity identity(off_t size) {
  edge::FileIdentity id;
  id.size = size;
  return id;
}

}  // namespace

TEST_CASE("the debouncer reports a file once it stayed the same for the settle time") {
  ChangeDebouncer debouncer(100ms, 1s);
  const ChangeDebouncer::Clock::time_point t0{};
  ChangeDebouncer::Snapshot now_seen = identity(10);
  const auto observe = [&](const std::string&) { return now_seen; };

  debouncer.touched("a.so", identity(10), t0);
  debouncer.touched("a.so", identity(10), t0 + 50ms);  // another event: the quiet time restarts
  CHECK(debouncer.take_settled(t0 + 120ms, observe).empty());
  CHECK(debouncer.next_due() == t0 + 150ms);
  const auto settled = debouncer.take_settled(t0 + 150ms, observe);
  REQUIRE(settled.size() == 1);
  CHECK(settled[0] == std::pair<std::string, bool>("a.so", true));
  CHECK(debouncer.empty());

  // Growing without events (a slow writer): looked at again, reported when stable.
  debouncer.touched("b.so", identity(1), t0);
  now_seen = identity(5);
  CHECK(debouncer.take_settled(t0 + 100ms, observe).empty());
  CHECK(debouncer.take_settled(t0 + 200ms, observe).size() == 1);

  // Gone: reported as not existing.
  debouncer.touched("c.so", std::nullopt, t0);
  now_seen = std::nullopt;
  const auto removed = debouncer.take_settled(t0 + 100ms, observe);
  REQUIRE(removed.size() == 1);
  CHECK_FALSE(removed[0].second);
}

TEST_CASE("the debouncer waits longer for a file a writer still has open") {
  using Writer = ChangeDebouncer::Writer;
  ChangeDebouncer debouncer(100ms, 1s);
  const ChangeDebouncer::Clock::time_point t0{};
  const auto observe = [&](const std::string&) { return ChangeDebouncer::Snapshot(identity(8)); };
  debouncer.touched("d.so", identity(8), t0, Writer::Open);  // written, not closed: a stalled copy
  CHECK(debouncer.take_settled(t0 + 500ms, observe).empty());
  debouncer.touched("d.so", identity(8), t0 + 600ms, Writer::Closed);
  CHECK(debouncer.next_due() == t0 + 700ms);
  CHECK(debouncer.take_settled(t0 + 700ms, observe).size() == 1);

  // A writer that never closes: reported after the longer wait.
  debouncer.touched("e.so", identity(8), t0, Writer::Open);
  debouncer.touched("e.so", identity(8), t0 + 10ms);  // an event saying nothing about writers
  CHECK(debouncer.take_settled(t0 + 900ms, observe).empty());
  CHECK(debouncer.take_settled(t0 + 1010ms, observe).size() == 1);
}

TEST_CASE("cp over, mv into place and rm are one report each; other files none") {
  ScratchDir dir("edge-watch");
  Reports reports;
  edge::PluginWatcher watcher(dir.path(), reports.callback(), kFast);
  watcher.start();
  watcher.start();  // already running: nothing happens

  edge::test::copy_over(plugin("echo"), dir / "a.so");
  auto seen = reports.wait_for(1);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].first == dir / "a.so");
  CHECK(seen[0].second == PluginFileChange::Written);

  edge::test::copy_over(plugin("counter"), dir / "a.so");
  seen = reports.wait_for(2);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].second == PluginFileChange::Written);

  edge::test::move_into_place(plugin("echo"), dir / "a.so");  // a.so.new is not reported
  seen = reports.wait_for(3);
  REQUIRE(seen.size() == 3);
  CHECK(seen[2].first == dir / "a.so");

  edge::test::write_file(dir / "notes.txt", "not a plugin");
  edge::test::write_file(dir / ".hidden.so", "an editor's temporary file");
  std::filesystem::remove(dir / "a.so");
  seen = reports.wait_for(4);
  REQUIRE(seen.size() == 4);
  CHECK(seen[3] == std::pair(dir / "a.so", PluginFileChange::Removed));
  std::this_thread::sleep_for(150ms);
  CHECK(reports.count() == 4);
}

TEST_CASE("a plugin's signature written or removed reports the plugin as written") {
  ScratchDir dir("edge-watch");
  edge::test::copy_over(plugin("echo"), dir / "a.so");
  Reports reports;
  edge::PluginWatcher watcher(dir.path(), reports.callback(), kFast);
  watcher.start();

  edge::test::write_file(dir / "a.so.sig", "signature");
  auto seen = reports.wait_for(1);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::pair(dir / "a.so", PluginFileChange::Written));
  std::filesystem::remove(dir / "a.so.sig");
  seen = reports.wait_for(2);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1] == std::pair(dir / "a.so", PluginFileChange::Written));

  edge::test::write_file(dir / "notes.sig", "no plugin of that name form");
  std::this_thread::sleep_for(150ms);
  CHECK(reports.count() == 2);
}

TEST_CASE("a copy that stalls longer than the settle time is reported once, complete") {
  ScratchDir dir("edge-watch");
  Reports reports;
  edge::PluginWatcher watcher(dir.path(), reports.callback(), edge::PluginWatcherOptions{30ms, 5s});
  watcher.start();
  const int file =
      ::open((dir / "slow.so").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  REQUIRE(file >= 0);
  for (int piece = 0; piece < 5; ++piece) {
    const std::string bytes(4096, static_cast<char>('a' + piece));
    REQUIRE(::write(file, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
    std::this_thread::sleep_for(80ms);  // still open for writing: not reported yet
  }
  ::close(file);
  const auto seen = reports.wait_for(1);
  REQUIRE(seen.size() == 1);
  CHECK(std::filesystem::file_size(dir / "slow.so") == 5 * 4096);
  std::this_thread::sleep_for(200ms);
  CHECK(reports.count() == 1);
}

TEST_CASE("a directory that cannot be watched is an error naming it; stop is idempotent") {
  Reports reports;
  edge::PluginWatcher missing("/nonexistent/plugins", reports.callback());
  try {
    missing.start();
    FAIL("expected std::system_error");
  } catch (const std::system_error& error) {
    CHECK(std::string(error.what()).find("/nonexistent/plugins") != std::string::npos);
  }
  missing.stop();

  ScratchDir dir("edge-watch");
  edge::PluginWatcher watcher(dir.path(), reports.callback(), kFast);
  watcher.start();
  watcher.stop();
  watcher.stop();
  edge::test::copy_over(plugin("echo"), dir / "late.so");
  std::this_thread::sleep_for(100ms);
  CHECK(reports.count() == 0);  // stopped: no report
  watcher.start();              // and it can start again
  edge::test::copy_over(plugin("counter"), dir / "late.so");
  CHECK(reports.wait_for(1).size() == 1);
}

TEST_CASE("a plugin directory removed and made again is watched again") {
  ScratchDir dir("edge-watch");
  const std::filesystem::path plugins = dir / "plugins";
  std::filesystem::create_directory(plugins);
  Reports reports;
  edge::PluginWatcher watcher(plugins, reports.callback(), kFast);
  watcher.start();
  std::filesystem::remove(plugins);
  std::this_thread::sleep_for(50ms);
  std::filesystem::create_directory(plugins);
  edge::test::copy_over(plugin("echo"), plugins / "back.so");
  // Picked up by the rescan when the watch comes back (within about a second).
  const auto seen = reports.wait_for(1);
  REQUIRE(seen.size() >= 1);
  CHECK(seen.back() == std::pair(plugins / "back.so", PluginFileChange::Written));
}
