// Counting processes and file descriptors from /proc, for the tests that
// prove nothing leaks: children of a process, zombies, open descriptors.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace edge::test {

struct ProcessInfo {
  pid_t pid = 0;
  pid_t parent = 0;
  pid_t group = 0;  // process group
  char state = '?';
};

inline std::vector<ProcessInfo> all_processes() {
  std::vector<ProcessInfo> processes;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    const std::string name = entry.path().filename();
    if (name.empty() || name[0] < '0' || name[0] > '9') continue;
    std::ifstream stat(entry.path() / "stat");
    std::string text;
    if (!std::getline(stat, text)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so parse after the last ')'.
    const auto close = text.rfind(')');
    if (close == std::string::npos || close + 4 > text.size()) continue;
    ProcessInfo info;
    info.pid = static_cast<pid_t>(std::stol(name));
    info.state = text[close + 2];
    std::istringstream fields(text.substr(close + 4));
    long parent = 0;
    long group = 0;
    fields >> parent >> group;
    info.parent = static_cast<pid_t>(parent);
    info.group = static_cast<pid_t>(group);
    processes.push_back(info);
  }
  return processes;
}

// Processes whose parent is `parent` (zombies included).
inline std::vector<ProcessInfo> children_of(pid_t parent) {
  std::vector<ProcessInfo> children;
  for (const ProcessInfo& info : all_processes()) {
    if (info.parent == parent) children.push_back(info);
  }
  return children;
}

inline std::size_t zombie_children_of(pid_t parent) {
  std::size_t zombies = 0;
  for (const ProcessInfo& info : children_of(parent)) zombies += info.state == 'Z' ? 1 : 0;
  return zombies;
}

inline bool process_exists(pid_t pid) {
  return std::filesystem::exists("/proc/" + std::to_string(pid));
}

// Descriptors `pid` has open (this process's by default).
inline std::size_t open_descriptors(pid_t pid = ::getpid()) {
  std::size_t count = 0;
  std::error_code error;
  for (auto entry =
           std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       entry != std::filesystem::directory_iterator(); ++entry) {
    ++count;
  }
  return count;
}

// Resident memory of `pid` in KiB (VmRSS; this process's by default).
inline std::size_t resident_kib(pid_t pid = ::getpid()) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  }
  return 0;
}

}  // namespace edge::test
