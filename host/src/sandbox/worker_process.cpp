#include "sandbox/worker_process.hpp"

#include "plugin/host_api.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <cstring>

namespace edge::sandbox {
namespace {

// How long to wait for the zygote's report after the channel closed: it
// reaps at once, so this only bounds a pathological case.
constexpr auto kExitReportWait = std::chrono::seconds(2);

}  // namespace

std::string describe_wait_status(int wait_status) {
  if (WIFSIGNALED(wait_status)) {
    const int signal = WTERMSIG(wait_status);
    const char* name = sigabbrev_np(signal);
    return "killed by signal " + std::to_string(signal) + " (SIG" + (name != nullptr ? name : "?") +
           (WCOREDUMP(wait_status) ? ", core dumped)" : ")");
  }
  if (WIFEXITED(wait_status)) return "exited with code " + std::to_string(WEXITSTATUS(wait_status));
  return "ended with wait status " + std::to_string(wait_status);
}

WorkerProcess::WorkerProcess(Zygote& zygote, Zygote::Spawned spawned, std::string function_id)
    : zygote_(zygote),
      pid_(spawned.pid),
      function_id_(std::move(function_id)),
      channel_(std::move(spawned.channel)) {}

WorkerProcess::~WorkerProcess() {
  // A worker that is idle exits by itself when its channel closes and runs
  // the plugin's shutdown hook; one that may be stuck is killed.
  if (!dead_ && !loaded_) kill();
  zygote_.release(pid_);
}

void WorkerProcess::kill() noexcept {
  ::kill(-pid_, SIGKILL);
  dead_ = true;
}

WorkerOutcome WorkerProcess::call(std::string_view input, Clock::time_point deadline) {
  const auto budget = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline - Clock::now());
  WorkerOutcome outcome;
  try {
    if (!channel_.send(FrameType::Invoke,
                       InvokeRequest{budget.count(), std::string(input)}.encode(), deadline)) {
      kill();
      outcome.kind = WorkerOutcome::Kind::TimedOut;
      return outcome;
    }
  } catch (const ChannelClosed&) {
    // It died before reading the call (e.g. it failed to load): the reply
    // frames it sent before dying are still readable below.
  }
  return receive(deadline, false);
}

WorkerOutcome WorkerProcess::wait_until_loaded(Clock::time_point deadline) {
  if (loaded_) return {};
  return receive(deadline, true);
}

WorkerOutcome WorkerProcess::receive(Clock::time_point deadline, bool until_loaded) {
  WorkerOutcome outcome;
  bool out_of_memory = false;
  try {
    for (;;) {
      std::optional<Frame> frame = channel_.receive(deadline);
      if (!frame) {
        kill();
        outcome.kind = WorkerOutcome::Kind::TimedOut;
        return outcome;
      }
      switch (frame->type) {
        case FrameType::Loaded:
          loaded_ = true;
          if (until_loaded) return outcome;
          continue;
        case FrameType::LoadFailed: {
          CallFailure failure = CallFailure::decode(frame->payload);
          outcome.kind = WorkerOutcome::Kind::LoadFailed;
          outcome.result = failure.result;
          outcome.message = std::move(failure.message);
          dead_ = true;  // it exits by itself
          return outcome;
        }
        case FrameType::Log: {
          const LogLine line = LogLine::decode(frame->payload);
          emit_plugin_log(known_log_level(line.level), function_id_, line.message);
          continue;
        }
        case FrameType::OutOfMemory:
          out_of_memory = true;
          continue;
        case FrameType::Output:
          outcome.output = std::move(frame->payload);
          return outcome;
        case FrameType::Failed: {
          CallFailure failure = CallFailure::decode(frame->payload);
          outcome.kind = WorkerOutcome::Kind::Failed;
          outcome.result = failure.result;
          outcome.message = std::move(failure.message);
          return outcome;
        }
        default:
          throw ProtocolError("unexpected frame type " +
                              std::to_string(static_cast<int>(frame->type)));
      }
    }
  } catch (const ChannelClosed&) {
    return died(out_of_memory);
  } catch (const ProtocolError& error) {
    kill();
    outcome.kind = WorkerOutcome::Kind::Crashed;
    outcome.message = std::string("the worker broke the protocol: ") + error.what();
    return outcome;
  }
}

WorkerOutcome WorkerProcess::died(bool out_of_memory_reported) {
  WorkerOutcome outcome;
  outcome.exit = zygote_.wait_for_exit(pid_, Clock::now() + kExitReportWait);
  if (!outcome.exit) kill();  // it closed its channel but lives on: end it
  dead_ = true;
  const bool out_of_memory =
      out_of_memory_reported || (outcome.exit && outcome.exit->out_of_memory);
  outcome.kind = out_of_memory ? WorkerOutcome::Kind::OutOfMemory : WorkerOutcome::Kind::Crashed;
  if (!out_of_memory) {
    outcome.message = outcome.exit ? describe_wait_status(outcome.exit->wait_status)
                                   : "closed its channel without answering";
  }
  return outcome;
}

}  // namespace edge::sandbox
