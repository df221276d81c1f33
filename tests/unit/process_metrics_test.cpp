#include "metrics/process_metrics.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

using edge::metrics::read_process_metrics;

namespace {

// A scratch /proc with the files read_process_metrics reads.
struct FakeProc {
  std::filesystem::path root;

  FakeProc() {
    root = std::filesystem::temp_directory_path() /
           ("edge-fake-proc-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(root / "self" / "fd");
  }
  ~FakeProc() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  void write(const std::string& relative, const std::string& content) const {
    std::ofstream(root / relative) << content;
  }
};

// A proc(5) stat line: pid (comm) then fields 3..24 with the ones we read
// set: utime=14, stime=15, num_threads=20, starttime=22, vsize=23, rss=24.
std::string stat_line(const std::string& comm) {
  return "4242 (" + comm +
         ") S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 1000 123456789 300 "
         "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
}

}  // namespace

TEST_CASE("process metrics of this test process from the real /proc") {
  const auto metrics = read_process_metrics();
  REQUIRE(metrics);
  CHECK(metrics->threads >= 1);
  CHECK(metrics->resident_memory_bytes > 0);
  CHECK(metrics->virtual_memory_bytes >= metrics->resident_memory_bytes);
  CHECK(metrics->cpu_seconds >= 0);
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  // Started before now (boot time and start ticks have whole-second and
  // tick resolution), and not before the test run could have begun.
  CHECK(metrics->start_time_seconds <= now + 2);
  CHECK(metrics->start_time_seconds > now - 24 * 3600);
  REQUIRE(metrics->open_fds);
  REQUIRE(metrics->max_fds);
  CHECK(*metrics->open_fds >= 3);  // stdin, stdout, stderr at least
  CHECK(*metrics->max_fds >= *metrics->open_fds);
}

TEST_CASE("process metrics parse a command name with spaces and parentheses") {
  FakeProc proc;
  proc.write("self/stat", stat_line("we ird) (name"));
  proc.write("stat", "cpu  1 2 3 4\nbtime 1700000000\nprocesses 5\n");
  proc.write("self/limits",
             "Limit                     Soft Limit           Hard Limit           Units\n"
             "Max open files            1024                 4096                 files\n");
  proc.write("self/fd/0", "");
  proc.write("self/fd/1", "");
  const auto metrics = read_process_metrics(proc.root);
  REQUIRE(metrics);
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  CHECK(metrics->cpu_seconds == doctest::Approx(300 / ticks));
  CHECK(metrics->threads == 7);
  CHECK(metrics->start_time_seconds == doctest::Approx(1700000000 + 1000 / ticks));
  CHECK(metrics->virtual_memory_bytes == 123456789);
  CHECK(metrics->resident_memory_bytes == 300.0 * static_cast<double>(::sysconf(_SC_PAGESIZE)));
  CHECK(metrics->open_fds == 2u);
  CHECK(metrics->max_fds == 1024u);
}

TEST_CASE("process metrics: an unlimited fd limit, and missing files") {
  FakeProc proc;
  CHECK_FALSE(read_process_metrics(proc.root));  // no stat file: no process metrics
  proc.write("self/stat", stat_line("edge-host"));
  CHECK_FALSE(read_process_metrics(proc.root));  // no boot time
  proc.write("stat", "btime 1700000000\n");
  proc.write("self/limits",
             "Max open files            unlimited            unlimited            files\n");
  auto metrics = read_process_metrics(proc.root);
  REQUIRE(metrics);
  CHECK(metrics->max_fds == std::numeric_limits<std::uint64_t>::max());

  std::filesystem::remove(proc.root / "self" / "limits");
  std::filesystem::remove_all(proc.root / "self" / "fd");
  metrics = read_process_metrics(proc.root);
  REQUIRE(metrics);  // the optional figures are left out, the rest stays
  CHECK_FALSE(metrics->open_fds);
  CHECK_FALSE(metrics->max_fds);

  proc.write("self/stat", "4242 (truncated) S 1 2 3\n");
  CHECK_FALSE(read_process_metrics(proc.root));
}
