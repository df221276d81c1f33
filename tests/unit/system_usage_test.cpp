#include "metrics/system_usage.hpp"

#include <doctest/doctest.h>

#include <unistd.h>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

using namespace edge::metrics;

namespace {

// A scratch proc root holding stat and meminfo.
struct FakeProc {
  std::filesystem::path root;

  FakeProc() {
    root = std::filesystem::temp_directory_path() /
           ("edge-fake-proc-usage-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(root);
  }
  ~FakeProc() {
    std::error_code ignored;
    std::filesystem::remove_all(root, ignored);
  }
  void write(const std::string& name, const std::string& content) const {
    std::ofstream(root / name) << content;
  }
  // /proc/stat with the aggregate line, a per-CPU line and more.
  void stat(const std::string& cpu_numbers) const {
    write("stat",
          "cpu  " + cpu_numbers + "\ncpu0 1 1 1 1 1 1 1 1 0 0\nintr 1 2 3\nbtime 1700000000\n");
  }
};

const char* const kMeminfo =
    "MemTotal:       16384000 kB\n"
    "MemFree:         1000000 kB\n"
    "MemAvailable:    4096000 kB\n"
    "Buffers:          100000 kB\n"
    "Cached:          2000000 kB\n";

std::string error_of(const auto& call) {
  try {
    call();
  } catch (const std::runtime_error& error) {
    return error.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("cpu times: busy and idle from the aggregate line, guest time not counted twice") {
  // user nice system idle iowait irq softirq steal guest guest_nice
  const CpuTimes times =
      parse_cpu_times("cpu  10 20 30 400 50 6 7 8 100 200\ncpu0 1 2 3 4\n", "stat");
  CHECK(times.busy == 10 + 20 + 30 + 6 + 7 + 8);
  CHECK(times.idle == 400 + 50);
  // Old kernels: only user nice system idle.
  const CpuTimes old = parse_cpu_times("cpu 1 2 3 4\n", "stat");
  CHECK(old.busy == 6);
  CHECK(old.idle == 4);
}

TEST_CASE("cpu times: errors name the file and what is missing") {
  CHECK(error_of([] { parse_cpu_times("cpu0 1 2 3 4\n", "/x/stat"); }) ==
        "/x/stat: no aggregate 'cpu' line");
  CHECK(error_of([] { parse_cpu_times("cpu  1 2 3\n", "/x/stat"); }) ==
        "/x/stat: the 'cpu' line has fewer than 4 numbers (user nice system idle)");
  CHECK(error_of([] {
          parse_cpu_times("cpu  1 2 x 4\n", "/x/stat");
        }).starts_with("/x/stat: the 'cpu' line"));
  CHECK(error_of([] { parse_cpu_times("", "/x/stat"); }) == "/x/stat: no aggregate 'cpu' line");
}

TEST_CASE("cpu percent between two readings") {
  CHECK(cpu_percent_between({100, 100}, {175, 125}) == doctest::Approx(75));
  CHECK(cpu_percent_between({100, 100}, {100, 200}) == doctest::Approx(0));
  CHECK(cpu_percent_between({100, 100}, {200, 100}) == doctest::Approx(100));
  CHECK_FALSE(cpu_percent_between({100, 100}, {100, 100}));  // no tick passed
  // iowait going backwards must not make the figure exceed 100 or go negative.
  CHECK(cpu_percent_between({100, 100}, {150, 90}) == doctest::Approx(100));
  CHECK(cpu_percent_between({100, 100}, {90, 150}) == doctest::Approx(0));
}

TEST_CASE("memory: MemTotal and MemAvailable in MB, with the old-kernel estimate") {
  const MemoryInfo memory = parse_memory_info(kMeminfo, "meminfo");
  CHECK(memory.total_mb == doctest::Approx(16000));
  CHECK(memory.available_mb == doctest::Approx(4000));

  // No MemAvailable (before Linux 3.14): free + buffers + cached.
  const MemoryInfo old = parse_memory_info(
      "MemTotal: 1024000 kB\nMemFree: 102400 kB\nBuffers: 51200 kB\nCached: 102400 kB\n",
      "meminfo");
  CHECK(old.available_mb == doctest::Approx(250));

  // Available is never more than the total.
  CHECK(parse_memory_info("MemTotal: 1024 kB\nMemAvailable: 4096 kB\n", "m").available_mb ==
        doctest::Approx(1));

  CHECK(error_of([] { parse_memory_info("MemFree: 1 kB\n", "/x/meminfo"); }) ==
        "/x/meminfo: no 'MemTotal: N kB' line");
  CHECK(error_of([] { parse_memory_info("MemTotal: 1 kB\n", "/x/meminfo"); }) ==
        "/x/meminfo: neither 'MemAvailable:' nor 'MemFree:' found");
  // A key must match whole: "MemTotalX" is not "MemTotal".
  CHECK(error_of([] { parse_memory_info("MemTotalX: 1 kB\nMemFree: 1 kB\n", "m"); }) ==
        "m: no 'MemTotal: N kB' line");
}

TEST_CASE("the sampler reports CPU since the previous sample and memory now (fake /proc)") {
  FakeProc proc;
  proc.stat("100 0 0 900 0 0 0 0 0 0");
  proc.write("meminfo", kMeminfo);
  SystemUsageSampler sampler(proc.root);

  proc.stat("150 0 0 950 0 0 0 0 0 0");  // 50 busy of 100 ticks
  edge::ResourceUsage usage = sampler.sample();
  CHECK(usage.cpu_percent == doctest::Approx(50));
  CHECK(usage.memory_max_mb == doctest::Approx(16000));
  CHECK(usage.memory_mb == doctest::Approx(12000));
  CHECK(usage.memory_percent() == doctest::Approx(75));
  CHECK(usage.is_valid());

  proc.stat("160 0 0 1040 0 0 0 0 0 0");  // 10 busy of 100
  CHECK(sampler.sample().cpu_percent == doctest::Approx(10));

  // No tick since: the previous figure stands rather than a made-up 0.
  CHECK(sampler.sample().cpu_percent == doctest::Approx(10));

  // A broken file is an error naming it; the sampler goes on afterwards.
  proc.write("meminfo", "garbage\n");
  CHECK(error_of([&] { sampler.sample(); }) ==
        (proc.root / "meminfo").string() + ": no 'MemTotal: N kB' line");
  proc.write("meminfo", kMeminfo);
  proc.stat("260 0 0 1040 0 0 0 0 0 0");
  CHECK(sampler.sample().cpu_percent == doctest::Approx(100));
}

TEST_CASE("the sampler names the file it cannot read") {
  FakeProc proc;
  CHECK(error_of([&] { SystemUsageSampler sampler(proc.root); }) ==
        "cannot read " + (proc.root / "stat").string());
  proc.stat("1 2 3 4");
  SystemUsageSampler sampler(proc.root);
  CHECK(error_of([&] { sampler.sample(); }) == "cannot read " + (proc.root / "meminfo").string());
}

TEST_CASE("the sampler on the real /proc gives valid figures that move with load") {
  SystemUsageSampler sampler;
  // Keep one core busy for a while so that the figure has ticks to count.
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(300);
  volatile std::uint64_t spin = 0;
  while (std::chrono::steady_clock::now() < until) spin = spin + 1;
  const edge::ResourceUsage usage = sampler.sample();
  CHECK(usage.is_valid());
  CHECK(usage.cpu_percent > 0);  // this thread was busy the whole time
  CHECK(usage.cpu_percent <= 100);
  CHECK(usage.memory_max_mb > 0);
  CHECK(usage.memory_mb > 0);
  CHECK(usage.memory_mb < usage.memory_max_mb);
}
