#include "worker_start.hpp"

#include "confinement.hpp"
#include "worker_loop.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <string>
#include <system_error>

namespace edge::worker {
namespace {

// Tells the host why this worker cannot serve, then exits.
[[noreturn]] void fail(int channel, const std::string& why) {
  const std::string frame =
      sandbox::encode_frame(sandbox::FrameType::LoadFailed, sandbox::CallFailure{0, why}.encode());
  (void)::send(channel, frame.data(), frame.size(), MSG_NOSIGNAL);
  ::_exit(sandbox::kExitLoadFailed);
}

}  // namespace

void detach(pid_t zygote, int channel, int output, int assignment) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != zygote) ::_exit(1);  // the zygote died before we got here

  // Descriptors 3 and 4 may be taken by the zygote's own: move ours above
  // them first, then into place.
  const int high_channel = ::fcntl(channel, F_DUPFD, 10);
  const int high_assignment = assignment >= 0 ? ::fcntl(assignment, F_DUPFD, 10) : -1;
  const int null_input = ::open("/dev/null", O_RDONLY);
  if (high_channel < 0 || (assignment >= 0 && high_assignment < 0) || null_input < 0 ||
      ::dup2(null_input, 0) < 0 || ::dup2(output, 1) < 0 || ::dup2(output, 2) < 0 ||
      ::dup2(high_channel, kChannelFd) < 0 ||
      (high_assignment >= 0 && ::dup2(high_assignment, kAssignmentFd) < 0)) {
    fail(channel, std::string("cannot start the worker: redirecting descriptors: ") +
                      std::generic_category().message(errno));
  }
  ::close_range(high_assignment >= 0 ? kAssignmentFd + 1 : kChannelFd + 1, ~0U, 0);
}

sandbox::SpawnRequest wait_for_assignment() {
  std::string bytes;
  char chunk[4096];
  for (;;) {
    const ssize_t size = ::read(kAssignmentFd, chunk, sizeof chunk);
    if (size > 0) {
      bytes.append(chunk, static_cast<std::size_t>(size));
    } else if (size == 0) {
      break;
    } else if (errno != EINTR) {
      ::_exit(1);
    }
  }
  ::close(kAssignmentFd);
  if (bytes.empty()) ::_exit(0);  // the zygote let its spare go
  try {
    sandbox::FrameDecoder decoder;
    decoder.feed(bytes);
    const std::optional<sandbox::Frame> frame = decoder.next();
    if (!frame || frame->type != sandbox::FrameType::Spawn) {
      throw sandbox::ProtocolError("expected a Spawn frame");
    }
    return sandbox::SpawnRequest::decode(frame->payload);
  } catch (const std::exception& error) {
    fail(kChannelFd, std::string("cannot start the worker: its assignment: ") + error.what());
  }
}

void prepare_worker(const std::vector<sandbox::WorkerCgroup>& groups, bool seccomp) {
  for (const sandbox::WorkerCgroup& group : groups) {
    try {
      group.add(::getpid());
    } catch (const std::exception& error) {
      fail(kChannelFd, std::string("cannot start the worker: ") + error.what());
    }
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(signal, SIG_DFL);
  if (const std::string problem = confine_process(seccomp); !problem.empty()) {
    fail(kChannelFd, "cannot confine the worker: " + problem);
  }
}

void become_worker(const sandbox::SpawnRequest& request) {
  if (const std::string problem = confine_for(request); !problem.empty()) {
    fail(kChannelFd, "cannot confine the worker: " + problem);
  }
  int code = 1;
  try {
    code = serve(kChannelFd, request);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "edge-worker: %s\n", error.what());
  }
  std::fflush(nullptr);
  ::_exit(code);
}

}  // namespace edge::worker
