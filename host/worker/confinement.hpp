// What a new worker process does to itself before any plugin code runs:
// its own process group, its cgroups, resource limits, an environment of the
// function's variables only, no new privileges, and a seccomp filter.
#pragma once

#include "sandbox/frame.hpp"

#include <string>

namespace edge::worker {

// Applies everything the spawn request asks for. Returns an empty string on
// success, else what failed (the worker then reports it and exits). Runs in
// the forked child: async-signal-safe enough for a single-threaded parent.
std::string confine(const sandbox::SpawnRequest& request);

// The system calls the seccomp filter refuses with EPERM (docs/sandbox.md
// lists them): loading kernel code, tracing other processes, mounting,
// namespaces, rebooting, changing the clock, keyrings, BPF.
const char* const* denied_system_calls() noexcept;

}  // namespace edge::worker
