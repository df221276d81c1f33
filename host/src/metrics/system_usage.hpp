// The machine's real CPU and memory use, as a node reports it in its
// heartbeats (edge::ResourceUsage), read from /proc (see proc(5)).
//
// Thread-safety: a sampler is not thread-safe; give each heartbeat timer its
// own (it keeps the previous CPU reading).
#pragma once

#include <edge/models.hpp>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>

namespace edge::metrics {

// The aggregate "cpu" line of /proc/stat, in clock ticks.
struct CpuTimes {
  std::uint64_t busy = 0;  // user, nice, system, irq, softirq, steal
  std::uint64_t idle = 0;  // idle, iowait
};

struct MemoryInfo {
  double total_mb = 0;      // MemTotal
  double available_mb = 0;  // MemAvailable (or an estimate on old kernels)
};

// Parsers, separate from file reading so that tests can feed odd input.
// Both throw std::runtime_error naming `source` and what was missing.
CpuTimes parse_cpu_times(std::string_view proc_stat, std::string_view source);
MemoryInfo parse_memory_info(std::string_view proc_meminfo, std::string_view source);

// CPU use between two readings, 0-100; nullopt when no tick passed between
// them (too close together to say anything).
std::optional<double> cpu_percent_between(const CpuTimes& earlier, const CpuTimes& later) noexcept;

class SystemUsageSampler {
 public:
  // Takes a first CPU reading, so that the first sample() covers the time
  // since construction. `proc_root` is /proc, or a fake one in tests.
  // Throws std::runtime_error naming the file it cannot read or parse.
  explicit SystemUsageSampler(std::filesystem::path proc_root = "/proc");

  // CPU use since the previous sample (or construction; the previous
  // figure again if no clock tick has passed since), and memory now:
  // memory_mb = MemTotal - MemAvailable, memory_max_mb = MemTotal, in MB
  // (MiB). Throws std::runtime_error naming the file it cannot read or
  // parse; the previous CPU reading is then kept.
  ResourceUsage sample();

 private:
  CpuTimes read_cpu_times() const;

  std::filesystem::path proc_root_;
  CpuTimes previous_;
  double last_cpu_percent_ = 0;
};

}  // namespace edge::metrics
