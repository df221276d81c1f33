// What a new worker process does to itself before any plugin code runs:
// its own process group, its cgroups, resource limits, an environment of the
// function's variables only, no new privileges, and a seccomp filter.
#pragma once

#include "sandbox/frame.hpp"

#include <string>

namespace edge::worker {

// Compiles the seccomp filter now, in the zygote, so that no worker pays
// for it (each installs the compiled program).
void prepare_confinement();

// What every worker gets, before it knows what it serves: no core dumps,
// no_new_privs, and the seccomp filter when `seccomp`. Each returns an empty
// string on success, else what failed (the worker then reports it and exits).
std::string confine_process(bool seccomp);
// What depends on the request: open-file, address-space and process limits,
// and an environment of the function's variables only.
std::string confine_for(const sandbox::SpawnRequest& request);

// The system calls the seccomp filter refuses with EPERM (docs/sandbox.md
// lists them): loading kernel code, tracing other processes, mounting,
// namespaces, rebooting, changing the clock, keyrings, BPF.
const char* const* denied_system_calls() noexcept;

}  // namespace edge::worker
