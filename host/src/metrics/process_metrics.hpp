// The standard process_* metrics of a Prometheus client, read from
// /proc/self (see proc(5)), so that dashboards built for any Prometheus
// client work for edge-host too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>

namespace edge::metrics {

struct ProcessMetrics {
  double cpu_seconds = 0;  // user + system time
  double resident_memory_bytes = 0;
  double virtual_memory_bytes = 0;
  double start_time_seconds = 0;  // since the Unix epoch
  std::uint64_t threads = 0;
  // Left out when the fd directory or the limits file cannot be read.
  std::optional<std::uint64_t> open_fds;
  std::optional<std::uint64_t> max_fds;
};

// Reads <proc_root>/self/stat, <proc_root>/stat (the boot time),
// <proc_root>/self/fd and <proc_root>/self/limits. nullopt when the stat
// files cannot be read or parsed (no /proc: the page then has no process
// metrics rather than failing).
std::optional<ProcessMetrics> read_process_metrics(
    const std::filesystem::path& proc_root = "/proc");

}  // namespace edge::metrics
