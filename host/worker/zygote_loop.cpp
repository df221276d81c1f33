#include "zygote_loop.hpp"

#include "confinement.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/frame.hpp"
#include "util/file_descriptor.hpp"
#include "worker_loop.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace edge::worker {
namespace {

using sandbox::FrameType;

constexpr std::size_t kMaxRequest = 1 << 20;
constexpr std::size_t kOutputChunk = 16 * 1024;

struct Worker {
  FileDescriptor output;  // the read end of its stdout/stderr pipe
  std::size_t output_left = 0;
  std::vector<sandbox::WorkerCgroup> groups;
};

void send_frame(int socket, FrameType type, const std::string& payload, int attached_fd = -1) {
  const std::string frame = sandbox::encode_frame(type, payload);
  iovec part{const_cast<char*>(frame.data()), frame.size()};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  if (attached_fd >= 0) {
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    cmsghdr* header = CMSG_FIRSTHDR(&message);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(header), &attached_fd, sizeof(int));
  }
  while (::sendmsg(socket, &message, MSG_NOSIGNAL) < 0 && errno == EINTR) {
  }
}

// Runs in the new worker process; never returns.
[[noreturn]] void become_worker(const sandbox::SpawnRequest& request, pid_t zygote, int channel,
                                int output, const std::vector<sandbox::WorkerCgroup>& groups) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != zygote) ::_exit(1);  // the zygote died before we got here

  const auto fail = [channel](const std::string& why) {
    send_frame(channel, FrameType::LoadFailed,
               sandbox::CallFailure{0, "cannot start the worker: " + why}.encode());
    ::_exit(sandbox::kExitLoadFailed);
  };
  for (const sandbox::WorkerCgroup& group : groups) {
    try {
      group.add(::getpid());
    } catch (const std::exception& error) {
      fail(error.what());
    }
  }
  sigset_t none;
  ::sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGCHLD}) ::signal(signal, SIG_DFL);

  // stdin from /dev/null, stdout and stderr to the zygote, the channel as
  // fd 3, and nothing else inherited.
  const int null_input = ::open("/dev/null", O_RDONLY);
  if (null_input < 0 || ::dup2(null_input, 0) < 0 || ::dup2(output, 1) < 0 ||
      ::dup2(output, 2) < 0 || ::dup2(channel, 3) < 0) {
    fail(std::string("redirecting descriptors: ") + std::strerror(errno));
  }
  ::close_range(4, ~0U, 0);
  if (const std::string problem = confine(request); !problem.empty()) {
    send_frame(3, FrameType::LoadFailed,
               sandbox::CallFailure{0, "cannot confine the worker: " + problem}.encode());
    ::_exit(sandbox::kExitLoadFailed);
  }
  int code = 1;
  try {
    code = serve(3, request);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "edge-worker: %s\n", error.what());
  }
  std::fflush(nullptr);
  ::_exit(code);
}

class ZygoteLoop {
 public:
  ZygoteLoop(int request_fd, int event_fd) : request_fd_(request_fd), event_fd_(event_fd) {}

  int run() {
    sigset_t child_signal;
    ::sigemptyset(&child_signal);
    ::sigaddset(&child_signal, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &child_signal, nullptr);
    signals_ = FileDescriptor(::signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!signals_) return 1;
    // Orphans of plugin code are reparented here, not to init, and reaped.
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    // edge-host decides when the zygote ends (by closing the request socket);
    // a Ctrl-C or a service manager's SIGTERM to the whole group must not
    // kill workers under a host that is still draining.
    for (const int signal : {SIGINT, SIGTERM, SIGHUP, SIGPIPE}) ::signal(signal, SIG_IGN);

    for (;;) {
      std::vector<pollfd> watched{{request_fd_, POLLIN, 0}, {signals_.get(), POLLIN, 0}};
      std::vector<pid_t> owners;
      for (auto& [pid, worker] : workers_) {
        if (!worker.output) continue;
        watched.push_back({worker.output.get(), POLLIN, 0});
        owners.push_back(pid);
      }
      const int timeout_ms = pending_removal_.empty() ? -1 : 5;
      if (::poll(watched.data(), watched.size(), timeout_ms) < 0 && errno != EINTR) return 1;
      for (std::size_t index = 2; index < watched.size(); ++index) {
        if (watched[index].revents != 0) forward_output(owners[index - 2]);
      }
      if (watched[1].revents != 0) reap();
      retry_removals();
      if (watched[0].revents != 0 && !handle_request()) break;
    }
    shut_down();
    return 0;
  }

 private:
  // False when the host is gone.
  bool handle_request() {
    std::string& buffer = request_buffer_;
    buffer.resize(kMaxRequest);
    const ssize_t size = ::recv(request_fd_, buffer.data(), buffer.size(), 0);
    if (size < 0) return errno == EINTR || errno == EAGAIN;
    if (size == 0) return false;
    sandbox::SpawnReply reply;
    int channel = -1;
    try {
      sandbox::FrameDecoder decoder;
      decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(size)));
      const std::optional<sandbox::Frame> frame = decoder.next();
      if (!frame || frame->type != FrameType::Spawn || decoder.buffered() != 0) {
        throw sandbox::ProtocolError("expected one Spawn frame");
      }
      channel = spawn(sandbox::SpawnRequest::decode(frame->payload), reply);
    } catch (const std::exception& error) {
      reply = {0, error.what()};
    }
    send_frame(request_fd_, FrameType::Spawned, reply.encode(), channel);
    if (channel >= 0) ::close(channel);
    return true;
  }

  // Forks a worker; returns the host's end of its channel (or -1, with
  // reply.error set).
  int spawn(const sandbox::SpawnRequest& request, sandbox::SpawnReply& reply) {
    std::vector<sandbox::WorkerCgroup> groups;
    const std::string name =
        "edge-worker-" + std::to_string(::getpid()) + "-" + std::to_string(++sequence_);
    try {
      if (!request.memory_cgroup.empty()) {
        const auto version = request.memory_cgroup_version == "2" ? sandbox::CgroupVersion::V2
                                                                  : sandbox::CgroupVersion::V1;
        groups.emplace_back(sandbox::CgroupParent{request.memory_cgroup, version}, name);
        groups.back().set_memory_limit(request.memory_limit_bytes);
      }
      if (!request.pids_cgroup.empty()) {
        if (!groups.empty() && groups.front().directory().parent_path() == request.pids_cgroup) {
          groups.front().set_process_limit(request.max_processes);  // v2: one group for both
        } else {
          const auto version =
              request.memory_cgroup_version == "2" && request.memory_cgroup == request.pids_cgroup
                  ? sandbox::CgroupVersion::V2
                  : sandbox::CgroupVersion::V1;
          groups.emplace_back(sandbox::CgroupParent{request.pids_cgroup, version}, name);
          groups.back().set_process_limit(request.max_processes);
        }
      }
    } catch (const std::exception& error) {
      for (const auto& group : groups) group.try_remove();
      reply.error = std::string("cannot create the worker's cgroup: ") + error.what();
      return -1;
    }

    int channel[2];
    int output[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
      reply.error = std::string("socketpair: ") + std::strerror(errno);
      for (const auto& group : groups) group.try_remove();
      return -1;
    }
    if (::pipe2(output, O_CLOEXEC) != 0) {
      reply.error = std::string("pipe: ") + std::strerror(errno);
      ::close(channel[0]);
      ::close(channel[1]);
      for (const auto& group : groups) group.try_remove();
      return -1;
    }
    const pid_t zygote = ::getpid();
    const pid_t pid = ::fork();
    if (pid == 0) become_worker(request, zygote, channel[1], output[1], groups);
    ::close(channel[1]);
    ::close(output[1]);
    if (pid < 0) {
      reply.error = std::string("fork: ") + std::strerror(errno);
      ::close(channel[0]);
      ::close(output[0]);
      for (const auto& group : groups) group.try_remove();
      return -1;
    }
    // Also here, so that the host can signal the group as soon as it has the pid.
    ::setpgid(pid, pid);
    ::fcntl(output[0], F_SETFL, O_NONBLOCK);
    workers_[pid] =
        Worker{FileDescriptor(output[0]), request.output_limit_bytes, std::move(groups)};
    reply.pid = pid;
    return channel[0];
  }

  void forward_output(pid_t pid) {
    const auto found = workers_.find(pid);
    if (found == workers_.end()) return;
    Worker& worker = found->second;
    std::array<char, kOutputChunk> chunk;
    for (;;) {
      const ssize_t size = ::read(worker.output.get(), chunk.data(), chunk.size());
      if (size == 0) {
        worker.output.reset();  // every writer closed it
        return;
      }
      if (size < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN) worker.output.reset();
        return;
      }
      if (worker.output_left == 0) continue;  // over budget: read and drop
      const std::size_t kept = std::min(static_cast<std::size_t>(size), worker.output_left);
      worker.output_left -= kept;
      send_frame(
          event_fd_, FrameType::WorkerOutput,
          sandbox::WorkerOutput{pid, std::string(chunk.data(), kept), worker.output_left == 0}
              .encode());
    }
  }

  void reap() {
    signalfd_siginfo info;
    while (::read(signals_.get(), &info, sizeof info) == sizeof info) {
    }
    int status = 0;
    for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) {
      const auto found = workers_.find(pid);
      if (found == workers_.end()) continue;  // an orphan of plugin code
      if (found->second.output) forward_output(pid);
      bool out_of_memory = false;
      for (sandbox::WorkerCgroup& group : found->second.groups) {
        try {
          out_of_memory = out_of_memory || group.oom_killed();
        } catch (...) {
        }
        group.kill_members();
        if (!group.try_remove()) pending_removal_.push_back(std::move(group));
      }
      workers_.erase(found);
      send_frame(event_fd_, FrameType::WorkerExited,
                 sandbox::WorkerExit{pid, status, out_of_memory}.encode());
    }
  }

  void retry_removals() {
    std::erase_if(pending_removal_, [](const sandbox::WorkerCgroup& group) {
      group.kill_members();
      return group.try_remove();
    });
  }

  void shut_down() {
    for (auto& [pid, worker] : workers_) ::kill(-pid, SIGKILL);
    for (auto& [pid, worker] : workers_) {
      for (sandbox::WorkerCgroup& group : worker.groups) {
        group.kill_members();
        pending_removal_.push_back(std::move(group));
      }
    }
    for (int attempt = 0; attempt < 1000 && !(workers_.empty() && pending_removal_.empty());
         ++attempt) {
      int status = 0;
      for (pid_t pid; (pid = ::waitpid(-1, &status, WNOHANG)) > 0;) workers_.erase(pid);
      retry_removals();
      ::usleep(1000);
    }
  }

  int request_fd_;
  int event_fd_;
  FileDescriptor signals_;
  std::map<pid_t, Worker> workers_;
  std::vector<sandbox::WorkerCgroup> pending_removal_;
  std::uint64_t sequence_ = 0;
  std::string request_buffer_;  // reused: a request is at most kMaxRequest bytes
};

}  // namespace

int run_zygote(int request_fd, int event_fd) { return ZygoteLoop(request_fd, event_fd).run(); }

}  // namespace edge::worker
