// The host's side of the zygote (host/worker/zygote_loop.hpp): starts the
// edge-worker process, asks it for workers, and collects what it reports
// about them (exit statuses, captured output).
//
// Thread-safety: every method may be called from any thread. Spawns are
// serialised (the zygote forks one worker at a time); a reader thread
// receives the zygote's events.
//
// Lifetime: destroying the Zygote closes its request socket; the zygote then
// kills every worker, removes their cgroups and exits, and is reaped here.
// If the zygote dies on its own, its workers die with it
// (PR_SET_PDEATHSIG) and the next spawn starts a new zygote.
#pragma once

#include "sandbox/frame.hpp"
#include "util/file_descriptor.hpp"

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>

namespace edge::sandbox {

// No worker could be started: the zygote cannot be run, or refused (a
// cgroup it could not create, fork failing).
class SpawnFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Zygote {
 public:
  using Clock = std::chrono::steady_clock;
  // What a worker wrote to stdout/stderr, with the function it serves.
  using OutputHandler = std::function<void(const std::string& function_id, const WorkerOutput&)>;

  // Does not start the process yet: the first spawn() (or start()) does.
  Zygote(std::filesystem::path binary, OutputHandler on_output);
  ~Zygote();
  Zygote(const Zygote&) = delete;
  Zygote& operator=(const Zygote&) = delete;

  // Starts the zygote process if it is not running. Throws SpawnFailed.
  void start();

  struct Spawned {
    pid_t pid = 0;           // also the worker's process group
    FileDescriptor channel;  // the host's end of the worker's stream socket
  };
  // Forks a worker as `request` describes. Throws SpawnFailed.
  Spawned spawn(const SpawnRequest& request);

  // The worker's exit as the zygote reaped it; nullopt if it has not exited
  // by `deadline`. A worker of a zygote that died is reported as SIGKILLed.
  std::optional<WorkerExit> wait_for_exit(pid_t pid, Clock::time_point deadline);
  // Nobody will ask for this worker's exit any more: forget it once known.
  void release(pid_t pid) noexcept;

  // The zygote's pid (0 when not running), and workers it runs or whose
  // exit is still to be collected (tests check both).
  pid_t pid() const;
  std::size_t tracked_workers() const;

 private:
  struct Tracked {
    std::string function_id;
    std::optional<WorkerExit> exit;
    bool released = false;
  };

  void start_locked();  // spawn_mutex_ held
  void stop_locked();   // spawn_mutex_ held: closes, joins, reaps
  void read_events(int events);

  const std::filesystem::path binary_;
  const OutputHandler on_output_;

  std::mutex spawn_mutex_;   // serialises start, stop and spawn
  FileDescriptor requests_;  // guarded by spawn_mutex_
  std::thread reader_;       // guarded by spawn_mutex_

  mutable std::mutex mutex_;
  std::condition_variable exited_;
  pid_t zygote_pid_ = 0;                        // guarded by mutex_
  bool alive_ = false;                          // guarded by mutex_
  std::unordered_map<pid_t, Tracked> workers_;  // guarded by mutex_
};

}  // namespace edge::sandbox
