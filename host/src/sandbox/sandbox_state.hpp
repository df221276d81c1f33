// What a Sandbox holds: its options, the limits it found, and the zygote.
#pragma once

#include <edge/sandbox.hpp>

#include "sandbox/cgroup.hpp"
#include "sandbox/zygote.hpp"

#include <optional>

namespace edge {

struct Sandbox::State {
  SandboxOptions options;
  std::optional<sandbox::CgroupParent> memory_cgroup;
  std::optional<sandbox::CgroupParent> pids_cgroup;
  std::string memory_limit_mode;
  std::string process_limit_mode;
  sandbox::Zygote zygote;

  State(SandboxOptions sandbox_options, sandbox::Zygote::OutputHandler on_output);

  // A worker for `function_id` loading `plugin`, confined by what this
  // sandbox enforces (its cgroups or rlimits, its options) and held to
  // `memory_mb`. The caller sets environment and init budget.
  sandbox::SpawnRequest spawn_request(std::string function_id, const std::filesystem::path& plugin,
                                      double memory_mb) const;
};

}  // namespace edge
