// The zygote: a small single-threaded process that edge-host starts once and
// that forks every worker. Forking it is much cheaper than starting a binary
// (its libraries are loaded and linked already), and as the workers' parent
// and a child subreaper it reaps them and anything their plugins forked, so
// the host is never left with zombies.
//
// Protocol (docs/sandbox.md): Spawn requests arrive on `request_fd` and are
// answered there with Spawned (the worker's socket attached as SCM_RIGHTS);
// WorkerExited and WorkerOutput events go to `event_fd`. Both are
// SOCK_SEQPACKET sockets: one message, one frame. When the host closes
// `request_fd` (or dies), the zygote kills every worker and exits.
#pragma once

namespace edge::worker {

int run_zygote(int request_fd, int event_fd);

}  // namespace edge::worker
