#include "metrics/process_metrics.hpp"

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

namespace edge::metrics {
namespace {

std::optional<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The fields of /proc/self/stat after the command name. The name is in
// parentheses and may itself contain spaces and ')', so the fields start
// after the last ')'. fields[0] is field 3 of proc(5) (the state).
std::optional<std::vector<std::string>> stat_fields(const std::string& stat) {
  const std::size_t name_end = stat.rfind(')');
  if (name_end == std::string::npos) return std::nullopt;
  std::istringstream in(stat.substr(name_end + 1));
  std::vector<std::string> fields{std::istream_iterator<std::string>(in),
                                  std::istream_iterator<std::string>()};
  return fields;
}

// A proc(5) field by its 1-based number in the man page.
std::optional<double> field(const std::vector<std::string>& fields, std::size_t number) {
  const std::size_t index = number - 3;
  if (index >= fields.size()) return std::nullopt;
  try {
    return std::stod(fields[index]);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// "btime 1700000000" in /proc/stat: when the machine booted.
std::optional<double> boot_time_seconds(const std::filesystem::path& proc_root) {
  std::ifstream in(proc_root / "stat");
  std::string key;
  while (in >> key) {
    if (key == "btime") {
      double value = 0;
      if (in >> value) return value;
      return std::nullopt;
    }
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return std::nullopt;
}

std::optional<std::uint64_t> count_open_fds(const std::filesystem::path& proc_root) {
  std::error_code error;
  std::filesystem::directory_iterator entries(proc_root / "self" / "fd", error);
  if (error) return std::nullopt;
  std::uint64_t count = 0;
  for (auto entry = entries; entry != std::filesystem::directory_iterator();
       entry.increment(error)) {
    if (error) return std::nullopt;
    ++count;
  }
  return count;
}

// The soft limit of "Max open files" in /proc/self/limits
// ("Max open files            1024                 1048576              files").
std::optional<std::uint64_t> max_open_fds(const std::filesystem::path& proc_root) {
  std::ifstream in(proc_root / "self" / "limits");
  std::string line;
  constexpr std::string_view kPrefix = "Max open files";
  while (std::getline(in, line)) {
    if (!line.starts_with(kPrefix)) continue;
    std::istringstream values(line.substr(kPrefix.size()));
    std::string soft;
    values >> soft;
    if (soft == "unlimited") return std::numeric_limits<std::uint64_t>::max();
    try {
      return std::stoull(soft);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<ProcessMetrics> read_process_metrics(const std::filesystem::path& proc_root) {
  const std::optional<std::string> stat = read_file(proc_root / "self" / "stat");
  if (!stat) return std::nullopt;
  const std::optional<std::vector<std::string>> fields = stat_fields(*stat);
  if (!fields) return std::nullopt;
  const auto user_ticks = field(*fields, 14);
  const auto system_ticks = field(*fields, 15);
  const auto threads = field(*fields, 20);
  const auto start_ticks = field(*fields, 22);
  const auto virtual_bytes = field(*fields, 23);
  const auto resident_pages = field(*fields, 24);
  const auto boot_time = boot_time_seconds(proc_root);
  if (!user_ticks || !system_ticks || !threads || !start_ticks || !virtual_bytes ||
      !resident_pages || !boot_time) {
    return std::nullopt;
  }

  const auto ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page_size = static_cast<double>(::sysconf(_SC_PAGESIZE));
  ProcessMetrics metrics;
  metrics.cpu_seconds = (*user_ticks + *system_ticks) / ticks_per_second;
  metrics.threads = static_cast<std::uint64_t>(*threads);
  metrics.start_time_seconds = *boot_time + *start_ticks / ticks_per_second;
  metrics.virtual_memory_bytes = *virtual_bytes;
  metrics.resident_memory_bytes = *resident_pages * page_size;
  metrics.open_fds = count_open_fds(proc_root);
  metrics.max_fds = max_open_fds(proc_root);
  return metrics;
}

}  // namespace edge::metrics
