// A real nats-server for the transport's tests: JetStream on, listening on
// 127.0.0.1 only, on a port the server picks itself (-p -1, read back from its
// log, so no other process can take the port between choosing and binding).
//
// The server logs to a file in its private directory (never to a pipe that
// could fill up and stall it); failures quote that log. The child is always
// reaped: the destructor kills a server that still runs. Not thread-safe.
// No doctest in here: the NATS benchmark (tools/bench/bench_nats.cpp) runs it too.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>

#include "child_process.hpp"

namespace edge::test {

class NatsServerProcess {
 public:
  // Starts the server and waits until it accepts clients. Throws
  // std::runtime_error with the server's log if it does not within 20 s.
  NatsServerProcess();
  ~NatsServerProcess();
  NatsServerProcess(const NatsServerProcess&) = delete;
  NatsServerProcess& operator=(const NatsServerProcess&) = delete;

  int port() const noexcept { return port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }
  const std::filesystem::path& store_dir() const noexcept { return store_dir_; }
  bool running() const noexcept { return process_ != nullptr; }

  // SIGTERM (a clean shutdown: JetStream flushes its files) and reap.
  void stop();
  // SIGKILL and reap: a crash.
  void kill();
  // SIGSTOP / SIGCONT: a server that hangs (its sockets stay open, nothing
  // answers). pause() returns once every thread of the server is stopped.
  void pause();
  void resume();
  // Stops the server if it runs, then starts it again on the same port with
  // the same store directory, and waits until it accepts clients.
  void restart();

  // The current (or last) run's log.
  std::string log() const;

 private:
  void start(int port);
  void end(int signal_number);
  void remove_directory() noexcept;

  // Private, made by the constructor and removed with everything in it.
  std::filesystem::path directory_;
  std::filesystem::path store_dir_;
  std::filesystem::path log_file_;
  int runs_ = 0;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

}  // namespace edge::test
