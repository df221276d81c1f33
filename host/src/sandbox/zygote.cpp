#include "sandbox/zygote.hpp"

#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>
#include <vector>

extern char** environ;

namespace edge::sandbox {
namespace {

constexpr auto kReplyTimeout = std::chrono::seconds(10);
constexpr std::size_t kMaxEvent = 256UL * 1024;

std::string errno_text(const char* what) {
  return std::string(what) + ": " + std::generic_category().message(errno);
}

// Sanitizer settings reach the zygote (and its workers); nothing else of the
// host's environment does. LeakSanitizer's exit-time check is turned off for
// them: it needs ptrace, which the workers' seccomp filter refuses, and would
// turn a plugin's exit(3) into a sanitizer failure.
std::vector<std::string> zygote_environment() {
  std::vector<std::string> kept;
  std::string asan = "ASAN_OPTIONS=";
  for (char** variable = environ; variable != nullptr && *variable != nullptr; ++variable) {
    const std::string_view text(*variable);
    if (text.substr(0, asan.size()) == asan) {
      asan = std::string(text) + ":";
      continue;
    }
    for (const std::string_view prefix : {"UBSAN_OPTIONS=", "TSAN_OPTIONS=", "LSAN_OPTIONS="}) {
      if (text.substr(0, prefix.size()) == prefix) kept.emplace_back(text);
    }
  }
  kept.push_back(asan + "detect_leaks=0");
  return kept;
}

}  // namespace

Zygote::Zygote(std::filesystem::path binary, OutputHandler on_output)
    : binary_(std::move(binary)), on_output_(std::move(on_output)) {}

Zygote::~Zygote() {
  std::lock_guard lock(spawn_mutex_);
  stop_locked();
}

void Zygote::start() {
  std::lock_guard lock(spawn_mutex_);
  start_locked();
}

void Zygote::start_locked() {
  {
    std::lock_guard lock(mutex_);
    if (alive_) return;
  }
  stop_locked();  // a zygote that died: collect it first

  int requests[2];
  int events[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, requests) != 0) {
    throw SpawnFailed(errno_text("cannot create the zygote's sockets: socketpair"));
  }
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, events) != 0) {
    ::close(requests[0]);
    ::close(requests[1]);
    throw SpawnFailed(errno_text("cannot create the zygote's sockets: socketpair"));
  }
  FileDescriptor host_requests(requests[0]);
  FileDescriptor zygote_requests(requests[1]);
  FileDescriptor host_events(events[0]);
  FileDescriptor zygote_events(events[1]);

  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, zygote_requests.get(), 3);
  ::posix_spawn_file_actions_adddup2(&actions, zygote_events.get(), 4);
  const std::string program = binary_.string();
  std::array<char*, 3> arguments{const_cast<char*>(program.c_str()), const_cast<char*>("--zygote"),
                                 nullptr};
  std::vector<std::string> environment = zygote_environment();
  std::vector<char*> environment_pointers;
  environment_pointers.reserve(environment.size() + 1);
  for (std::string& variable : environment) environment_pointers.push_back(variable.data());
  environment_pointers.push_back(nullptr);
  pid_t pid = 0;
  const int result = ::posix_spawn(&pid, program.c_str(), &actions, nullptr, arguments.data(),
                                   environment_pointers.data());
  ::posix_spawn_file_actions_destroy(&actions);
  if (result != 0) {
    throw SpawnFailed("cannot start the worker zygote " + program + ": " +
                      std::generic_category().message(result));
  }
  requests_ = std::move(host_requests);
  {
    std::lock_guard lock(mutex_);
    zygote_pid_ = pid;
    alive_ = true;
  }
  reader_ =
      std::thread([this, events = std::move(host_events)]() mutable { read_events(events.get()); });
}

void Zygote::stop_locked() {
  requests_.reset();  // the zygote sees end of file, kills its workers and exits
  if (reader_.joinable()) reader_.join();
  pid_t pid = 0;
  {
    std::lock_guard lock(mutex_);
    pid = std::exchange(zygote_pid_, 0);
  }
  if (pid > 0) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
}

void Zygote::read_events(int events) {
  std::string buffer(kMaxEvent, '\0');
  for (;;) {
    const ssize_t size = ::recv(events, buffer.data(), buffer.size(), 0);
    if (size < 0 && errno == EINTR) continue;
    if (size <= 0) break;  // the zygote exited (or was stopped)
    try {
      FrameDecoder decoder;
      decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(size)));
      const std::optional<Frame> frame = decoder.next();
      if (!frame) continue;
      if (frame->type == FrameType::WorkerExited) {
        const WorkerExit exit = WorkerExit::decode(frame->payload);
        std::lock_guard lock(mutex_);
        Tracked& tracked = workers_[exit.pid];
        if (tracked.released) {
          workers_.erase(exit.pid);
        } else {
          tracked.exit = exit;
        }
        exited_.notify_all();
      } else if (frame->type == FrameType::WorkerOutput && on_output_) {
        const WorkerOutput output = WorkerOutput::decode(frame->payload);
        std::string function_id;
        {
          std::lock_guard lock(mutex_);
          if (const auto found = workers_.find(output.pid); found != workers_.end()) {
            function_id = found->second.function_id;
          }
        }
        on_output_(function_id, output);
      }
    } catch (const std::exception&) {
      // A malformed event is dropped; the zygote is our own code.
    }
  }
  ::close(events);
  // Workers die with their zygote (PR_SET_PDEATHSIG): wake whoever waits.
  std::lock_guard lock(mutex_);
  alive_ = false;
  for (auto entry = workers_.begin(); entry != workers_.end();) {
    if (entry->second.released) {
      entry = workers_.erase(entry);
      continue;
    }
    if (!entry->second.exit) entry->second.exit = WorkerExit{entry->first, SIGKILL, false};
    ++entry;
  }
  exited_.notify_all();
}

Zygote::Spawned Zygote::spawn(const SpawnRequest& request) {
  std::lock_guard lock(spawn_mutex_);
  start_locked();
  const std::string frame = encode_frame(FrameType::Spawn, request.encode());
  if (::send(requests_.get(), frame.data(), frame.size(), MSG_NOSIGNAL) < 0) {
    const std::string reason = errno_text("cannot reach the worker zygote");
    {
      std::lock_guard state(mutex_);
      alive_ = false;  // the next spawn starts a new one
    }
    throw SpawnFailed(reason);
  }

  pollfd entry{requests_.get(), POLLIN, 0};
  if (::poll(&entry, 1, static_cast<int>(std::chrono::milliseconds(kReplyTimeout).count())) <= 0) {
    std::lock_guard state(mutex_);
    alive_ = false;
    if (zygote_pid_ > 0) ::kill(zygote_pid_, SIGKILL);
    throw SpawnFailed("the worker zygote did not answer within 10 s; restarting it");
  }
  std::string buffer(4096, '\0');  // a SpawnReply: a pid and a short message
  iovec part{buffer.data(), buffer.size()};
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(int))> control{};
  msghdr message{};
  message.msg_iov = &part;
  message.msg_iovlen = 1;
  message.msg_control = control.data();
  message.msg_controllen = control.size();
  ssize_t size = 0;
  while ((size = ::recvmsg(requests_.get(), &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  FileDescriptor channel;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS) {
      int descriptor = -1;
      std::memcpy(&descriptor, CMSG_DATA(header), sizeof descriptor);
      channel = FileDescriptor(descriptor);
    }
  }
  if (size <= 0) {
    std::lock_guard state(mutex_);
    alive_ = false;
    throw SpawnFailed("the worker zygote exited; it is restarted on the next call");
  }
  FrameDecoder decoder;
  decoder.feed(std::string_view(buffer.data(), static_cast<std::size_t>(size)));
  const std::optional<Frame> reply_frame = decoder.next();
  if (!reply_frame || reply_frame->type != FrameType::Spawned) {
    throw SpawnFailed("the worker zygote sent an unexpected reply");
  }
  const SpawnReply reply = SpawnReply::decode(reply_frame->payload);
  if (reply.pid <= 0 || !channel) {
    throw SpawnFailed(reply.error.empty() ? "the worker zygote could not start a worker"
                                          : reply.error);
  }
  {
    std::lock_guard state(mutex_);
    workers_[reply.pid].function_id = request.function_id;
  }
  return {reply.pid, std::move(channel)};
}

std::optional<WorkerExit> Zygote::wait_for_exit(pid_t pid, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  exited_.wait_until(lock, deadline, [&] {
    const auto found = workers_.find(pid);
    return found != workers_.end() && found->second.exit.has_value();
  });
  const auto found = workers_.find(pid);
  if (found == workers_.end() || !found->second.exit) return std::nullopt;
  return found->second.exit;
}

void Zygote::release(pid_t pid) noexcept {
  std::lock_guard lock(mutex_);
  const auto found = workers_.find(pid);
  if (found == workers_.end()) return;
  if (found->second.exit) {
    workers_.erase(found);
  } else {
    found->second.released = true;
  }
}

pid_t Zygote::pid() const {
  std::lock_guard lock(mutex_);
  return alive_ ? zygote_pid_ : 0;
}

std::size_t Zygote::tracked_workers() const {
  std::lock_guard lock(mutex_);
  return workers_.size();
}

}  // namespace edge::sandbox
