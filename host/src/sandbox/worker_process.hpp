// One worker process as the host sees it: its pid (and process group), the
// stream socket to it, and how one call through it ended.
//
// Thread-safety: none; a worker serves one call at a time (WorkerPool hands
// it to one caller). Lifetime: destroying it kills the worker's process
// group if it may still run, and tells the zygote nobody waits for its exit.
#pragma once

#include "sandbox/frame_channel.hpp"
#include "sandbox/zygote.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edge::sandbox {

// How a call (or a load) through a worker ended.
struct WorkerOutcome {
  enum class Kind : std::uint8_t {
    Ok,           // `output` holds the result; the worker can serve again
    Failed,       // the plugin reported an error (`result`, `message`); reusable
    LoadFailed,   // the plugin could not be loaded or initialised (`message`)
    TimedOut,     // the deadline passed: the worker was killed
    Crashed,      // the worker died (`exit` says how) or broke the protocol
    OutOfMemory,  // it hit its memory limit and died
  };
  Kind kind = Kind::Ok;
  std::string output;
  std::uint8_t result = 0;         // edge_result, for Failed
  std::string message;             // Failed, LoadFailed, Crashed (protocol errors)
  std::optional<WorkerExit> exit;  // Crashed, OutOfMemory: as reaped, when known in time

  bool worker_survives() const noexcept { return kind == Kind::Ok || kind == Kind::Failed; }
};

// "killed by signal 11 (SIGSEGV)", "exited with code 3".
std::string describe_wait_status(int wait_status);

class WorkerProcess {
 public:
  using Clock = std::chrono::steady_clock;

  WorkerProcess(Zygote& zygote, Zygote::Spawned spawned, std::string function_id);
  ~WorkerProcess();
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  // Runs one call. The first call also collects the Loaded (or LoadFailed)
  // report, so the Invoke frame is sent without waiting for the load: a cold
  // start costs one round trip less.
  WorkerOutcome call(std::string_view input, Clock::time_point deadline);
  // Waits until the plugin is loaded (warm_up). Ok, LoadFailed, TimedOut or Crashed.
  WorkerOutcome wait_until_loaded(Clock::time_point deadline);

  // SIGKILLs the worker's process group.
  void kill() noexcept;

  pid_t pid() const noexcept { return pid_; }
  bool loaded() const noexcept { return loaded_; }

 private:
  // Reads frames until one ends the exchange; Loaded ends it when
  // `until_loaded`.
  WorkerOutcome receive(Clock::time_point deadline, bool until_loaded);
  WorkerOutcome died(bool out_of_memory_reported);

  Zygote& zygote_;
  const pid_t pid_;
  const std::string function_id_;
  FrameChannel channel_;
  bool loaded_ = false;
  bool dead_ = false;  // killed, or known to have exited
};

}  // namespace edge::sandbox
