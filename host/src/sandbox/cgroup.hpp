// Control groups for worker processes: where the host may create them, and
// one worker's group (its limit, its members, its OOM record, its removal).
//
// Both hierarchies are supported: cgroup v2 (one tree, `memory.max`,
// `pids.max`, `memory.events`) and the older v1 (one tree per controller,
// `memory.limit_in_bytes`, `pids.max`, `memory.oom_control`). A worker's group
// is created under the cgroup the host itself runs in, so whatever limits
// the host has also bound its workers.
//
// Thread-safety: none needed; each object is used by one thread (the zygote
// creates and removes groups, the host only probes).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace edge::sandbox {

enum class CgroupVersion : std::uint8_t { V1, V2 };

// A directory in which this process may create child groups that offer
// `controller`.
struct CgroupParent {
  std::filesystem::path directory;
  CgroupVersion version = CgroupVersion::V1;

  // "cgroup v1 memory.limit_in_bytes", "cgroup v2 pids.max", ...
  std::string describe(std::string_view controller) const;
};

// Finds where this process can create groups with `controller` ("memory" or
// "pids"), by creating and removing a probe group. nullopt when it cannot
// (no such controller, not delegated, no permission).
std::optional<CgroupParent> find_cgroup_parent(std::string_view controller);

// One worker's group. Created empty; removed (after killing what is left in
// it) by remove().
class WorkerCgroup {
 public:
  // Creates `parent.directory/name`. Throws std::system_error on failure.
  WorkerCgroup(const CgroupParent& parent, const std::string& name);
  WorkerCgroup(WorkerCgroup&&) noexcept = default;
  WorkerCgroup& operator=(WorkerCgroup&&) noexcept = default;
  ~WorkerCgroup() = default;  // remove() is explicit: it may wait

  // Each throws std::system_error naming the file when the write fails.
  void set_memory_limit(std::uint64_t bytes) const;
  void set_process_limit(std::uint32_t count) const;
  // Moves `pid` into the group (a process joins itself with getpid()).
  void add(pid_t pid) const;

  // Whether the kernel's OOM killer killed a member of the group.
  bool oom_killed() const;
  // SIGKILLs every member (processes a plugin forked and detached included).
  void kill_members() const;
  // Removes the group; false while it still has members (killed ones may
  // linger until reaped: try again later). True if it is already gone.
  bool try_remove() const;

  const std::filesystem::path& directory() const noexcept { return directory_; }

 private:
  std::filesystem::path directory_;
  CgroupVersion version_ = CgroupVersion::V1;
};

}  // namespace edge::sandbox
