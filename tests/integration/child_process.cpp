#include "child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

extern char** environ;

namespace edge::test {
namespace {

[[noreturn]] void throw_errno(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

void close_descriptor(int& descriptor) noexcept {
  if (descriptor >= 0) ::close(descriptor);
  descriptor = -1;
}

// Both ends close on exec; posix_spawn's dup2 gives the child its copies
// without that flag. Closes whatever the parent did not take.
struct Pipe {
  Pipe() {
    if (::pipe2(ends.data(), O_CLOEXEC) != 0) throw_errno("pipe2");
  }
  ~Pipe() {
    close_descriptor(ends[0]);
    close_descriptor(ends[1]);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int take(std::size_t end) noexcept { return std::exchange(ends[end], -1); }

  std::array<int, 2> ends{-1, -1};  // read, write
};

void set_nonblocking(int descriptor) {
  const int flags = ::fcntl(descriptor, F_GETFL);
  if (flags < 0 || ::fcntl(descriptor, F_SETFL, flags | O_NONBLOCK) != 0) throw_errno("fcntl");
}

// Owns posix_spawn's file actions and attributes.
struct SpawnSettings {
  SpawnSettings() {
    if (int error = ::posix_spawn_file_actions_init(&actions); error != 0) {
      throw std::system_error(error, std::generic_category(), "posix_spawn_file_actions_init");
    }
    if (int error = ::posix_spawnattr_init(&attributes); error != 0) {
      ::posix_spawn_file_actions_destroy(&actions);
      throw std::system_error(error, std::generic_category(), "posix_spawnattr_init");
    }
  }
  ~SpawnSettings() {
    ::posix_spawnattr_destroy(&attributes);
    ::posix_spawn_file_actions_destroy(&actions);
  }
  SpawnSettings(const SpawnSettings&) = delete;
  SpawnSettings& operator=(const SpawnSettings&) = delete;

  posix_spawn_file_actions_t actions{};
  posix_spawnattr_t attributes{};
};

void check(int error, const char* what) {
  if (error != 0) throw std::system_error(error, std::generic_category(), what);
}

}  // namespace

ChildProcess::ChildProcess(std::vector<std::string> arguments, std::string input)
    : pending_input_(std::move(input)) {
  // Writing to the stdin of a child that already exited must be an EPIPE
  // error here, not a SIGPIPE that kills the test runner.
  static const bool sigpipe_ignored = std::signal(SIGPIPE, SIG_IGN) != SIG_ERR;
  (void)sigpipe_ignored;

  Pipe input_pipe;
  Pipe output_pipe;
  Pipe errors_pipe;
  SpawnSettings settings;
  check(::posix_spawn_file_actions_adddup2(&settings.actions, input_pipe.ends[0], STDIN_FILENO),
        "posix_spawn_file_actions_adddup2");
  check(::posix_spawn_file_actions_adddup2(&settings.actions, output_pipe.ends[1], STDOUT_FILENO),
        "posix_spawn_file_actions_adddup2");
  check(::posix_spawn_file_actions_adddup2(&settings.actions, errors_pipe.ends[1], STDERR_FILENO),
        "posix_spawn_file_actions_adddup2");
  // Ignored or blocked signals are inherited through exec: the child must
  // see SIGINT and SIGTERM as a user's shell would deliver them.
  sigset_t no_signals;
  sigemptyset(&no_signals);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (const int signal_number : {SIGINT, SIGTERM, SIGPIPE, SIGHUP, SIGQUIT}) {
    sigaddset(&defaults, signal_number);
  }
  check(::posix_spawnattr_setsigmask(&settings.attributes, &no_signals),
        "posix_spawnattr_setsigmask");
  check(::posix_spawnattr_setsigdefault(&settings.attributes, &defaults),
        "posix_spawnattr_setsigdefault");
  check(::posix_spawnattr_setflags(&settings.attributes,
                                   POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
        "posix_spawnattr_setflags");

  std::vector<char*> argv;
  argv.reserve(arguments.size() + 1);
  for (std::string& argument : arguments) argv.push_back(argument.data());
  argv.push_back(nullptr);
  const int error =
      ::posix_spawn(&pid_, argv[0], &settings.actions, &settings.attributes, argv.data(), environ);
  if (error != 0) {
    pid_ = -1;
    throw std::system_error(error, std::generic_category(), "cannot start " + arguments[0]);
  }

  input_fd_ = input_pipe.take(1);
  output_fd_ = output_pipe.take(0);
  errors_fd_ = errors_pipe.take(0);
  set_nonblocking(input_fd_);
  set_nonblocking(output_fd_);
  set_nonblocking(errors_fd_);
  if (pending_input_.empty()) close_descriptor(input_fd_);
}

ChildProcess::~ChildProcess() {
  close_descriptor(input_fd_);
  close_descriptor(output_fd_);
  close_descriptor(errors_fd_);
  if (pid_ > 0 && !reaped_) {
    ::kill(pid_, SIGKILL);
    reap(/*blocking=*/true);
  }
}

template <typename Done>
bool ChildProcess::pump(Clock::time_point deadline, Done done) {
  while (!done()) {
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;

    std::array<pollfd, 3> descriptors{};
    std::array<int*, 3> owners{};
    std::size_t count = 0;
    const auto watch = [&](int& descriptor, short events) {
      if (descriptor < 0) return;
      descriptors[count] = {descriptor, events, 0};
      owners[count++] = &descriptor;
    };
    watch(input_fd_, POLLOUT);
    watch(output_fd_, POLLIN);
    watch(errors_fd_, POLLIN);
    if (count == 0) return false;  // nothing more can happen

    const auto remaining = std::chrono::ceil<std::chrono::milliseconds>(deadline - now).count();
    const int ready = ::poll(descriptors.data(), count, static_cast<int>(remaining));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) throw_errno("poll");

    for (std::size_t index = 0; index < count; ++index) {
      if (descriptors[index].revents == 0) continue;
      int& descriptor = *owners[index];
      if (&descriptor == &input_fd_) {
        const ssize_t written = ::write(descriptor, pending_input_.data(), pending_input_.size());
        if (written < 0 && (errno == EAGAIN || errno == EINTR)) continue;
        if (written < 0) {
          pending_input_.clear();  // the child closed its stdin (EPIPE)
        } else {
          pending_input_.erase(0, static_cast<std::size_t>(written));
        }
        if (pending_input_.empty()) close_descriptor(descriptor);
        continue;
      }
      std::array<char, 64 * 1024> buffer{};
      const ssize_t read = ::read(descriptor, buffer.data(), buffer.size());
      if (read < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (read <= 0) {
        close_descriptor(descriptor);
        continue;
      }
      std::string& sink = &descriptor == &output_fd_ ? output_ : errors_;
      sink.append(buffer.data(), static_cast<std::size_t>(read));
    }
  }
  return true;
}

bool ChildProcess::read_output_until(std::string_view text, std::chrono::milliseconds timeout) {
  const auto found = [&] { return output_.find(text) != std::string::npos; };
  pump(Clock::now() + timeout, [&] { return found() || output_fd_ < 0; });
  return found();
}

void ChildProcess::read_output_for(std::chrono::milliseconds duration) {
  pump(Clock::now() + duration, [] { return false; });
}

bool ChildProcess::send_signal(int signal_number) {
  return !reaped_ && ::kill(pid_, signal_number) == 0;
}

bool ChildProcess::has_exited() {
  reap(/*blocking=*/false);
  return reaped_;
}

ChildProcess::Exit ChildProcess::wait(std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  pump(deadline, [&] { return !outputs_open(); });
  for (;;) {
    reap(/*blocking=*/false);
    if (reaped_) return exit_;
    if (Clock::now() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid_, SIGKILL);
  reap(/*blocking=*/true);
  exit_.timed_out = true;
  return exit_;
}

void ChildProcess::reap(bool blocking) {
  if (reaped_) return;
  int status = 0;
  pid_t result = -1;
  do {
    result = ::waitpid(pid_, &status, blocking ? 0 : WNOHANG);
  } while (result < 0 && errno == EINTR);
  if (result == pid_) {
    reaped_ = true;
    exit_.exited = WIFEXITED(status);
    exit_.code = exit_.exited ? WEXITSTATUS(status) : -1;
    exit_.signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
  } else if (result < 0) {
    reaped_ = true;  // ECHILD: someone else reaped it; nothing left to wait for
  }
}

}  // namespace edge::test
