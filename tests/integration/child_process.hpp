// A program started as a child process with pipes on its stdin, stdout and
// stderr, for tests that run the real edge-host.
//
// Every wait has a deadline, and the child is always reaped: the destructor
// kills (SIGKILL) and reaps a child that is still running, so a failing test
// leaves no process and no zombie behind. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

namespace edge::test {

class ChildProcess {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts `arguments[0]` (a path, not looked up in PATH) with the rest as
  // its arguments, and writes `input` to its stdin, which is then closed.
  // The child starts with default signal dispositions and no blocked
  // signals, whatever the test runner has. Throws std::system_error.
  explicit ChildProcess(std::vector<std::string> arguments, std::string input = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }
  // Everything read so far.
  const std::string& output() const noexcept { return output_; }
  const std::string& errors() const noexcept { return errors_; }

  // Reads until stdout contains `text` (true), or stdout closes or the
  // timeout passes (false).
  bool read_output_until(std::string_view text, std::chrono::milliseconds timeout);
  // Keeps reading for `duration` (so that the child never blocks on a full pipe).
  void read_output_for(std::chrono::milliseconds duration);

  // Sends a signal; false if the child is already reaped.
  bool send_signal(int signal_number);

  // Whether the child has ended (reaps it if so); never blocks.
  bool has_exited();

  struct Exit {
    bool timed_out = false;  // it had to be killed
    bool exited = false;     // exited normally (else killed by a signal)
    int code = -1;           // exit status, if exited
    int signal = 0;          // the signal that killed it, if not exited
  };
  // Reads the remaining output and waits for the child to end. After
  // `timeout` it is killed with SIGKILL and timed_out is set.
  Exit wait(std::chrono::milliseconds timeout);

 private:
  // Polls the pipes until `done()` or the deadline; false on the deadline.
  template <typename Done>
  bool pump(Clock::time_point deadline, Done done);
  bool outputs_open() const noexcept { return output_fd_ >= 0 || errors_fd_ >= 0; }
  // Collects the exit status if the child ended (or waits for it to end).
  void reap(bool blocking);

  pid_t pid_ = -1;
  int input_fd_ = -1;  // our ends of the pipes; -1 once closed
  int output_fd_ = -1;
  int errors_fd_ = -1;
  std::string pending_input_;
  std::string output_;
  std::string errors_;
  bool reaped_ = false;
  Exit exit_;
};

}  // namespace edge::test
