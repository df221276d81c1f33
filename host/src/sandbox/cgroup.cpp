#include "sandbox/cgroup.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <system_error>

namespace edge::sandbox {
namespace {

constexpr const char* kRoot = "/sys/fs/cgroup";
// The leaf a delegated v2 host moves itself into (enable_v2_controller).
constexpr const char* kHostLeaf = "edge-host";

void write_file(const std::filesystem::path& file, std::string_view text) {
  const int descriptor = ::open(file.c_str(), O_WRONLY | O_CLOEXEC);
  if (descriptor < 0)
    throw std::system_error(errno, std::generic_category(), "open " + file.string());
  const ssize_t written = ::write(descriptor, text.data(), text.size());
  const int error = errno;
  ::close(descriptor);
  if (written != static_cast<ssize_t>(text.size())) {
    throw std::system_error(written < 0 ? error : EIO, std::generic_category(),
                            "write " + file.string());
  }
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream stream(file);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

// The value of "key N" in a flat keyed file (memory.events, memory.oom_control).
std::uint64_t keyed_value(const std::string& text, std::string_view key) {
  std::istringstream lines(text);
  std::string name;
  std::uint64_t value = 0;
  while (lines >> name >> value) {
    if (name == key) return value;
  }
  return 0;
}

// This process's group path in the hierarchy that has `controller` (v1), or
// in the unified hierarchy (v2, controller empty), from /proc/self/cgroup.
std::optional<std::string> own_group(std::string_view controller) {
  std::ifstream stream("/proc/self/cgroup");
  std::string line;
  while (std::getline(stream, line)) {
    const auto first = line.find(':');
    const auto second = line.find(':', first + 1);
    if (first == std::string::npos || second == std::string::npos) continue;
    const std::string_view controllers(line.data() + first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (controller.empty()
            ? controllers.empty() && line.compare(0, first, "0") == 0
            : (controllers == controller ||
               controllers.starts_with(std::string(controller) + ",") ||
               controllers.find("," + std::string(controller)) != std::string::npos)) {
      return path;
    }
  }
  return std::nullopt;
}

bool probe(const CgroupParent& parent, std::string_view controller) {
  const std::filesystem::path probe_dir =
      parent.directory / ("edge-probe-" + std::to_string(::getpid()));
  if (::mkdir(probe_dir.c_str(), 0755) != 0 && errno != EEXIST) return false;
  const std::string limit_file =
      controller == "pids"
          ? "pids.max"
          : (parent.version == CgroupVersion::V2 ? "memory.max" : "memory.limit_in_bytes");
  const bool usable = ::access((probe_dir / limit_file).c_str(), W_OK) == 0;
  ::rmdir(probe_dir.c_str());
  return usable;
}

// Makes `controller` available to children of `directory`. v2 lets a group
// with processes of its own have no controllers for children ("no internal
// processes"), so in a delegated group (systemd's Delegate=, where the
// service owns its subtree) the host first moves itself into a leaf child,
// as systemd's delegation documentation prescribes. False when the group is
// not ours to change.
bool enable_v2_controller(const std::filesystem::path& directory, std::string_view controller) {
  const std::filesystem::path subtree = directory / "cgroup.subtree_control";
  if (read_file(subtree).find(controller) != std::string::npos) return true;
  const std::string enable = "+" + std::string(controller);
  try {
    write_file(subtree, enable);
    return true;
  } catch (const std::system_error& error) {
    if (error.code().value() != EBUSY) return false;  // not delegated to us
  }
  try {
    const std::filesystem::path leaf = directory / kHostLeaf;
    if (::mkdir(leaf.c_str(), 0755) != 0 && errno != EEXIST) return false;
    write_file(leaf / "cgroup.procs", std::to_string(::getpid()));
    write_file(subtree, enable);
    return true;
  } catch (const std::system_error&) {
    return false;
  }
}

// "/sys/fs/cgroup/pids" for the root group, not ".../pids/": directories are
// compared as strings (a worker's group is told from its parent).
std::filesystem::path group_directory(const std::filesystem::path& root, const std::string& group) {
  std::filesystem::path directory = (root / group.substr(1)).lexically_normal();
  if (!directory.has_filename()) directory = directory.parent_path();
  return directory;
}

}  // namespace

std::string CgroupParent::describe(std::string_view controller) const {
  const bool v2 = version == CgroupVersion::V2;
  if (controller == "pids") return v2 ? "cgroup v2 pids.max" : "cgroup v1 pids.max";
  return v2 ? "cgroup v2 memory.max" : "cgroup v1 memory.limit_in_bytes";
}

std::optional<CgroupParent> find_cgroup_parent(std::string_view controller) {
  // v1: a hierarchy of its own, mounted at /sys/fs/cgroup/<controller>.
  const std::filesystem::path v1_root = std::filesystem::path(kRoot) / std::string(controller);
  if (const auto group = own_group(controller);
      group && ::access((v1_root / "cgroup.procs").c_str(), F_OK) == 0) {
    CgroupParent parent{group_directory(v1_root, *group), CgroupVersion::V1};
    if (probe(parent, controller)) return parent;
  }
  // v2: the unified tree, where the controller must be enabled for children.
  if (const auto group = own_group({});
      group && ::access((std::filesystem::path(kRoot) / "cgroup.controllers").c_str(), F_OK) == 0) {
    CgroupParent parent{group_directory(kRoot, *group), CgroupVersion::V2};
    // Already moved into our leaf (for another controller): its parent is ours.
    if (parent.directory.filename() == kHostLeaf) parent.directory = parent.directory.parent_path();
    if (enable_v2_controller(parent.directory, controller) && probe(parent, controller))
      return parent;
  }
  return std::nullopt;
}

WorkerCgroup::WorkerCgroup(const CgroupParent& parent, const std::string& name)
    : directory_(parent.directory / name), version_(parent.version) {
  if (::mkdir(directory_.c_str(), 0755) != 0) {
    throw std::system_error(errno, std::generic_category(), "mkdir " + directory_.string());
  }
}

void WorkerCgroup::set_memory_limit(std::uint64_t bytes) const {
  const std::string value = std::to_string(bytes);
  if (version_ == CgroupVersion::V2) {
    write_file(directory_ / "memory.max", value);
    // No swapping instead of failing: the limit is on memory, not RAM.
    if (::access((directory_ / "memory.swap.max").c_str(), W_OK) == 0) {
      write_file(directory_ / "memory.swap.max", "0");
    }
    return;
  }
  write_file(directory_ / "memory.limit_in_bytes", value);
  if (::access((directory_ / "memory.memsw.limit_in_bytes").c_str(), W_OK) == 0) {
    write_file(directory_ / "memory.memsw.limit_in_bytes", value);
  }
}

void WorkerCgroup::set_process_limit(std::uint32_t count) const {
  write_file(directory_ / "pids.max", std::to_string(count));
}

void WorkerCgroup::add(pid_t pid) const {
  write_file(directory_ / "cgroup.procs", std::to_string(pid));
}

bool WorkerCgroup::oom_killed() const {
  const char* file = version_ == CgroupVersion::V2 ? "memory.events" : "memory.oom_control";
  return keyed_value(read_file(directory_ / file), "oom_kill") > 0;
}

void WorkerCgroup::kill_members() const {
  if (version_ == CgroupVersion::V2 && ::access((directory_ / "cgroup.kill").c_str(), W_OK) == 0) {
    try {
      write_file(directory_ / "cgroup.kill", "1");
      return;
    } catch (const std::system_error&) {
      // fall back to killing member by member
    }
  }
  std::istringstream members(read_file(directory_ / "cgroup.procs"));
  for (pid_t pid = 0; members >> pid;) ::kill(pid, SIGKILL);
}

bool WorkerCgroup::try_remove() const {
  return ::rmdir(directory_.c_str()) == 0 || errno == ENOENT;
}

}  // namespace edge::sandbox
