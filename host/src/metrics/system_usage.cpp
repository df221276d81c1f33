#include "metrics/system_usage.hpp"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>

namespace edge::metrics {
namespace {

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::string_view skip_spaces(std::string_view text) {
  const std::size_t start = text.find_first_not_of(" \t");
  return start == std::string_view::npos ? std::string_view{} : text.substr(start);
}

// The next unsigned number of `text`, advancing past it; nullopt at the end
// of the line or on anything that is not a number.
std::optional<std::uint64_t> next_number(std::string_view& text) {
  text = skip_spaces(text);
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc()) return std::nullopt;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return value;
}

// The line of `text` that starts with `key` (e.g. "cpu " or "MemTotal:"),
// without the key.
std::optional<std::string_view> line_after(std::string_view text, std::string_view key) {
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = text.substr(start, end - start);
    if (line.starts_with(key)) return line.substr(key.size());
    start = end + 1;
  }
  return std::nullopt;
}

// A "Key:   12345 kB" line of /proc/meminfo, in MB.
std::optional<double> meminfo_mb(std::string_view meminfo, std::string_view key) {
  std::optional<std::string_view> rest = line_after(meminfo, key);
  if (!rest) return std::nullopt;
  const std::optional<std::uint64_t> kilobytes = next_number(*rest);
  if (!kilobytes) return std::nullopt;
  return static_cast<double>(*kilobytes) / 1024.0;
}

}  // namespace

CpuTimes parse_cpu_times(std::string_view proc_stat, std::string_view source) {
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice".
  // Kernels before 2.6 stop after idle; guest time is already counted in
  // user and nice, so it is left out.
  std::optional<std::string_view> rest = line_after(proc_stat, "cpu ");
  if (!rest) throw std::runtime_error(std::string(source) + ": no aggregate 'cpu' line");
  std::uint64_t fields[8] = {};
  int count = 0;
  for (; count < 8; ++count) {
    const std::optional<std::uint64_t> value = next_number(*rest);
    if (!value) break;
    fields[count] = *value;
  }
  if (count < 4) {
    throw std::runtime_error(std::string(source) +
                             ": the 'cpu' line has fewer than 4 numbers (user nice system idle)");
  }
  const auto [user, nice, system, idle, iowait, irq, softirq, steal] = fields;
  return CpuTimes{user + nice + system + irq + softirq + steal, idle + iowait};
}

MemoryInfo parse_memory_info(std::string_view proc_meminfo, std::string_view source) {
  const std::optional<double> total = meminfo_mb(proc_meminfo, "MemTotal:");
  if (!total) throw std::runtime_error(std::string(source) + ": no 'MemTotal: N kB' line");
  std::optional<double> available = meminfo_mb(proc_meminfo, "MemAvailable:");
  if (!available) {
    // Kernels before 3.14 have no MemAvailable: free + reclaimable caches is
    // the usual estimate.
    const std::optional<double> free = meminfo_mb(proc_meminfo, "MemFree:");
    if (!free) {
      throw std::runtime_error(std::string(source) +
                               ": neither 'MemAvailable:' nor 'MemFree:' found");
    }
    available = *free + meminfo_mb(proc_meminfo, "Buffers:").value_or(0) +
                meminfo_mb(proc_meminfo, "Cached:").value_or(0);
  }
  return MemoryInfo{*total, std::min(*available, *total)};
}

std::optional<double> cpu_percent_between(const CpuTimes& earlier, const CpuTimes& later) noexcept {
  // iowait (part of idle) is known to go backwards on some kernels, and a
  // CPU going offline takes its ticks with it: a negative delta counts as 0.
  const auto delta = [](std::uint64_t before, std::uint64_t after) {
    return after > before ? static_cast<double>(after - before) : 0.0;
  };
  const double busy = delta(earlier.busy, later.busy);
  const double idle = delta(earlier.idle, later.idle);
  if (busy + idle == 0) return std::nullopt;
  return std::clamp(100.0 * busy / (busy + idle), 0.0, 100.0);
}

SystemUsageSampler::SystemUsageSampler(std::filesystem::path proc_root)
    : proc_root_(std::move(proc_root)), previous_(read_cpu_times()) {}

CpuTimes SystemUsageSampler::read_cpu_times() const {
  const std::filesystem::path file = proc_root_ / "stat";
  return parse_cpu_times(read_file(file), file.string());
}

ResourceUsage SystemUsageSampler::sample() {
  const std::filesystem::path meminfo_file = proc_root_ / "meminfo";
  const MemoryInfo memory = parse_memory_info(read_file(meminfo_file), meminfo_file.string());
  const CpuTimes now = read_cpu_times();
  if (const std::optional<double> percent = cpu_percent_between(previous_, now)) {
    last_cpu_percent_ = *percent;
    previous_ = now;
  }
  ResourceUsage usage;
  usage.cpu_percent = last_cpu_percent_;
  usage.memory_mb = memory.total_mb - memory.available_mb;
  usage.memory_max_mb = memory.total_mb;
  return usage;
}

}  // namespace edge::metrics
