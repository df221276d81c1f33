#include "zygote_loop.hpp"

#include "confinement.hpp"
#include "sandbox/cgroup.hpp"
#include "sandbox/frame.hpp"
#include "util/file_descriptor.hpp"
#include "worker_start.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace edge::worker {
namespace {

using sandbox::FrameType;

constexpr std::size_t kMaxRequest = 1 << 20;
constexpr std::size_t kOutputChunk = 16UL * 1024;

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
      // Spares are forked from half a millisecond after the last spawn on:
      // not while the worker just started loads its plugin on the other
      // core, but before the next cold start in a quick series. Two are
      // kept, one forked per turn of the loop.
      const bool spares_wanted = have_request_ && spares_.size() < kSpares;
      timespec wait{};
      timespec* timeout = nullptr;
      if (spares_wanted) {
        const auto left =
            std::max(Clock::duration::zero(), last_spawn_ + kSpareDelay - Clock::now());
        wait.tv_nsec = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
        timeout = &wait;
      } else if (!pending_removal_.empty()) {
        wait.tv_nsec = 5'000'000;
        timeout = &wait;
      }
      const int ready = ::ppoll(watched.data(), watched.size(), timeout, nullptr);
      if (ready < 0 && errno != EINTR) return 1;
      if (spares_wanted && Clock::now() >= last_spawn_ + kSpareDelay) prepare_spare(last_request_);
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
      last_request_ = sandbox::SpawnRequest::decode(frame->payload);
      channel = spawn(last_request_, reply);
    } catch (const std::exception& error) {
      reply = {0, error.what()};
    }
    send_frame(request_fd_, FrameType::Spawned, reply.encode(), channel);
    if (channel >= 0) {
      ::close(channel);
      deliver_assignment();
      have_request_ = true;  // spares are made like it (see run())
      last_spawn_ = Clock::now();
    }
    return true;
  }

  // A process forked ahead of the next request, with its cgroups made and
  // its descriptors in place, waiting for its SpawnRequest: forking and
  // mkdir'ing the cgroups are then off the cold start's path (Android's
  // "unspecialized app process" pool does the same for its zygote).
  struct Spare {
    pid_t pid = 0;
    FileDescriptor channel;     // the host's end
    FileDescriptor output;      // the read end of its stdout/stderr
    FileDescriptor assignment;  // where its SpawnRequest goes
    std::vector<sandbox::WorkerCgroup> groups;
    std::string memory_cgroup;  // the parents its groups were made under
    std::string pids_cgroup;
    bool seccomp = true;  // its filter is installed already
  };

  // The worker's cgroups under the request's parents, without limits yet.
  std::vector<sandbox::WorkerCgroup> make_groups(const sandbox::SpawnRequest& request) {
    std::vector<sandbox::WorkerCgroup> groups;
    const std::string name =
        "edge-worker-" + std::to_string(::getpid()) + "-" + std::to_string(++sequence_);
    const auto version = request.memory_cgroup_version == "2" ? sandbox::CgroupVersion::V2
                                                              : sandbox::CgroupVersion::V1;
    try {
      if (!request.memory_cgroup.empty()) {
        groups.emplace_back(sandbox::CgroupParent{request.memory_cgroup, version}, name);
      }
      // v2: one group carries both controllers.
      if (!request.pids_cgroup.empty() && request.pids_cgroup != request.memory_cgroup) {
        groups.emplace_back(sandbox::CgroupParent{request.pids_cgroup, sandbox::CgroupVersion::V1},
                            name);
      }
    } catch (...) {
      for (const auto& group : groups) group.try_remove();
      throw;
    }
    return groups;
  }

  static void set_limits(const sandbox::SpawnRequest& request,
                         const std::vector<sandbox::WorkerCgroup>& groups) {
    for (const sandbox::WorkerCgroup& group : groups) {
      const std::string parent = group.directory().parent_path().string();
      if (parent == request.memory_cgroup) group.set_memory_limit(request.memory_limit_bytes);
      if (parent == request.pids_cgroup) group.set_process_limit(request.max_processes);
    }
  }

  // Forks a process with a channel and an output pipe; in the child, runs
  // `child` after detaching (never returns there). Returns the pid, the
  // host's end and the output's read end; throws std::system_error.
  template <class Child>
  pid_t fork_worker(FileDescriptor& host_end, FileDescriptor& output_end, int assignment_read,
                    Child child) {
    int channel[2];
    int output[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, channel) != 0) {
      throw std::system_error(errno, std::generic_category(), "socketpair");
    }
    FileDescriptor host(channel[0]);
    FileDescriptor worker(channel[1]);
    if (::pipe2(output, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
    FileDescriptor read_end(output[0]);
    FileDescriptor write_end(output[1]);
    const pid_t zygote = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid == 0) {
      detach(zygote, worker.get(), write_end.get(), assignment_read);
      child();  // does not return
      ::_exit(1);
    }
    // Also here, so that the host can signal the group as soon as it has the pid.
    ::setpgid(pid, pid);
    ::fcntl(read_end.get(), F_SETFL, O_NONBLOCK);
    host_end = std::move(host);
    output_end = std::move(read_end);
    return pid;
  }

  // Forks a worker for `request` (a spare's, when one fits); returns the
  // host's end of its channel, or -1 with reply.error set.
  int spawn(const sandbox::SpawnRequest& request, sandbox::SpawnReply& reply) {
    // Spares made for another configuration (cgroups, seccomp) go.
    std::erase_if(spares_, [&](Spare& spare) {
      if (spare.memory_cgroup == request.memory_cgroup &&
          spare.pids_cgroup == request.pids_cgroup && spare.seccomp == request.seccomp) {
        return false;
      }
      discard(spare);
      return true;
    });
    if (!spares_.empty()) {
      if (const int channel = assign_spare(request, reply); channel >= 0) return channel;
    }
    std::vector<sandbox::WorkerCgroup> groups;
    try {
      groups = make_groups(request);
      set_limits(request, groups);
      FileDescriptor channel;
      FileDescriptor output;
      const pid_t pid = fork_worker(channel, output, -1, [&] {
        prepare_worker(groups, request.seccomp);
        become_worker(request);
      });
      workers_[pid] = Worker{std::move(output), request.output_limit_bytes, std::move(groups)};
      reply.pid = pid;
      return channel.release();
    } catch (const std::exception& error) {
      for (const auto& group : groups) group.try_remove();
      reply.error = std::string("cannot start a worker: ") + error.what();
      return -1;
    }
  }

  // Gives the spare to `request`: sets its limits and returns the host's end
  // of its channel; the request itself reaches the spare in
  // deliver_assignment(), after the host has its reply (so that the spare,
  // once awake, does not delay that reply on a busy CPU). -1 (and no spare)
  // if the limits cannot be set.
  int assign_spare(const sandbox::SpawnRequest& request, sandbox::SpawnReply& reply) {
    Spare spare = std::move(spares_.front());
    spares_.pop_front();
    try {
      set_limits(request, spare.groups);
    } catch (const std::exception&) {
      ::kill(-spare.pid, SIGKILL);  // reaped as an unknown child
      for (sandbox::WorkerCgroup& group : spare.groups)
        pending_removal_.push_back(std::move(group));
      return -1;
    }
    assignment_ = Assignment{spare.pid, std::move(spare.assignment),
                             sandbox::encode_frame(FrameType::Spawn, request.encode())};
    workers_[spare.pid] =
        Worker{std::move(spare.output), request.output_limit_bytes, std::move(spare.groups)};
    reply.pid = spare.pid;
    return spare.channel.release();
  }

  // Writes the pending assignment to its spare and closes the pipe (end of
  // file: the spare reads its request and starts). A spare that cannot be
  // told is killed; the host then sees its worker die.
  void deliver_assignment() {
    if (!assignment_) return;
    const Assignment assignment = std::move(*assignment_);
    assignment_.reset();
    for (std::size_t written = 0; written < assignment.frame.size();) {
      const ssize_t size = ::write(assignment.pipe.get(), assignment.frame.data() + written,
                                   assignment.frame.size() - written);
      if (size < 0 && errno == EINTR) continue;
      if (size < 0) {
        ::kill(-assignment.pid, SIGKILL);
        return;
      }
      written += static_cast<std::size_t>(size);
    }
  }

  // Kills a spare that will not be used (reaped as an unknown child) and
  // removes its cgroups.
  void discard(Spare& spare) {
    ::kill(-spare.pid, SIGKILL);
    for (sandbox::WorkerCgroup& group : spare.groups) pending_removal_.push_back(std::move(group));
  }

  // Forks one more spare, made like `request`.
  void prepare_spare(const sandbox::SpawnRequest& request) {
    Spare spare;
    int assignment[2];
    if (::pipe2(assignment, O_CLOEXEC) != 0) return;
    FileDescriptor read_end(assignment[0]);
    spare.assignment = FileDescriptor(assignment[1]);
    try {
      spare.groups = make_groups(request);
      const std::vector<sandbox::WorkerCgroup>& groups = spare.groups;
      const bool seccomp = request.seccomp;
      spare.pid = fork_worker(spare.channel, spare.output, read_end.get(), [&groups, seccomp] {
        prepare_worker(groups, seccomp);  // in its cgroups and confined while it waits
        become_worker(wait_for_assignment());
      });
    } catch (const std::exception&) {
      for (const auto& group : spare.groups) group.try_remove();
      return;  // no spare: the next spawn forks on its path, as the first did
    }
    spare.memory_cgroup = request.memory_cgroup;
    spare.pids_cgroup = request.pids_cgroup;
    spare.seccomp = request.seccomp;
    spares_.push_back(std::move(spare));
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
      const auto spare =
          std::find_if(spares_.begin(), spares_.end(),
                       [pid](const Spare& candidate) { return candidate.pid == pid; });
      if (spare != spares_.end()) {  // died before it was needed
        for (sandbox::WorkerCgroup& group : spare->groups)
          pending_removal_.push_back(std::move(group));
        spares_.erase(spare);
        continue;
      }
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
    for (Spare& spare : spares_) discard(spare);
    spares_.clear();
    for (auto& [pid, worker] : workers_) ::kill(-pid, SIGKILL);
    for (auto& [pid, worker] : workers_) {
      for (sandbox::WorkerCgroup& group : worker.groups) {
        group.kill_members();
        pending_removal_.push_back(std::move(group));
      }
    }
    // Every child is reaped before the zygote exits (for at most a second):
    // workers, discarded spares and orphans of plugin code alike. A child
    // left behind would outlive the host as init's zombie, or still be dying
    // when the host has already said it stopped.
    bool children_left = true;
    for (int attempt = 0; attempt < 1000 && (children_left || !pending_removal_.empty());
         ++attempt) {
      int status = 0;
      pid_t pid = 0;
      while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) workers_.erase(pid);
      children_left = !(pid < 0 && errno == ECHILD);
      retry_removals();
      if (children_left || !pending_removal_.empty()) ::usleep(1000);
    }
  }

  int request_fd_;
  int event_fd_;
  FileDescriptor signals_;
  std::map<pid_t, Worker> workers_;
  std::vector<sandbox::WorkerCgroup> pending_removal_;
  std::uint64_t sequence_ = 0;
  std::string request_buffer_;  // reused: a request is at most kMaxRequest bytes
  sandbox::SpawnRequest last_request_;
  static constexpr std::size_t kSpares = 2;
  std::deque<Spare> spares_;   // oldest first
  bool have_request_ = false;  // last_request_ says what spares are made like
  using Clock = std::chrono::steady_clock;
  static constexpr auto kSpareDelay = std::chrono::microseconds(500);
  Clock::time_point last_spawn_{};
  // A spare's request, held until the host has its reply.
  struct Assignment {
    pid_t pid = 0;
    FileDescriptor pipe;
    std::string frame;
  };
  std::optional<Assignment> assignment_;
};

}  // namespace

int run_zygote(int request_fd, int event_fd) {
  prepare_confinement();  // once, here: every worker inherits the compiled filter
  return ZygoteLoop(request_fd, event_fd).run();
}

}  // namespace edge::worker
