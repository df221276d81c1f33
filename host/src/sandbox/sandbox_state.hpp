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
};

}  // namespace edge
