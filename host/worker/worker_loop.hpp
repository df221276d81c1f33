// The worker's side of a call: load the plugin named in the spawn request,
// report Loaded (or LoadFailed and exit), then answer Invoke frames one at a
// time until the host closes the channel.
#pragma once

#include "sandbox/frame.hpp"

namespace edge::worker {

// Serves on `channel_fd` (already confined: see confinement.hpp). Returns
// the process's exit code.
int serve(int channel_fd, const sandbox::SpawnRequest& request);

}  // namespace edge::worker
