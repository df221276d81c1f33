// The first moments of a worker process, in the child the zygote forked:
// leave the zygote's process group and descriptors behind, then (once it
// knows what it serves) join its cgroups, confine itself and serve.
#pragma once

#include "sandbox/cgroup.hpp"
#include "sandbox/frame.hpp"

#include <sys/types.h>

#include <vector>

namespace edge::worker {

// Descriptors of a worker after detach(): the channel to the host, and the
// pipe a spare waits on for its assignment.
inline constexpr int kChannelFd = 3;
inline constexpr int kAssignmentFd = 4;

// Own process group, killed with the zygote, stdin /dev/null, stdout and
// stderr to `output`, `channel` as fd 3, `assignment` (if not -1) as fd 4,
// every other descriptor closed. Exits the process if any of it fails.
void detach(pid_t zygote, int channel, int output, int assignment);

// A spare (forked before anyone asked for it): blocks until the zygote
// writes its SpawnRequest to fd 4 and closes it. Exits when the zygote closes
// the pipe without one.
sandbox::SpawnRequest wait_for_assignment();

// What does not depend on the request (a spare does it before it waits):
// joins `groups`, restores default signal handling, and applies
// confine_process(seccomp). Exits the process if any of it fails.
void prepare_worker(const std::vector<sandbox::WorkerCgroup>& groups, bool seccomp);

// Applies what `request` asks for (confine_for) and serves calls on fd 3.
// Never returns.
[[noreturn]] void become_worker(const sandbox::SpawnRequest& request);

}  // namespace edge::worker
