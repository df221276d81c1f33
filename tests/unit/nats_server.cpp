#include "nats_server.hpp"

#include <stdlib.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <vector>

namespace edge::test {
namespace {

using namespace std::chrono_literals;

// Generous: a loaded 2-core machine, and JetStream restores its streams
// before the server says it is ready.
constexpr auto kStartDeadline = 20s;
constexpr auto kStopDeadline = 20s;

std::string server_binary() {
  std::string configured = EDGE_TEST_NATS_SERVER;
  if (configured.empty()) {
    throw std::runtime_error(
        "nats-server was not found when the build was configured: install it "
        "(tools/install-deps.sh) and re-run cmake");
  }
  return configured;
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The port in "Listening for client connections on 127.0.0.1:4222", or 0.
int listening_port(const std::string& log) {
  static constexpr std::string_view kPrefix = "Listening for client connections on 127.0.0.1:";
  const std::size_t at = log.find(kPrefix);
  if (at == std::string::npos) return 0;
  return std::atoi(log.c_str() + at + kPrefix.size());
}

// Every thread of `pid` is stopped (state T in /proc/<pid>/task/*/stat).
bool all_threads_stopped(pid_t pid) {
  std::error_code error;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    const std::string stat = read_file(task.path() / "stat");
    // "tid (comm) S ...": the state follows the last ')' (comm may hold one).
    const std::size_t end_of_name = stat.rfind(')');
    if (end_of_name == std::string::npos || end_of_name + 2 >= stat.size()) return false;
    if (stat[end_of_name + 2] != 'T') return false;
  }
  return !error;
}

std::string arguments_text(int port) {
  return port < 0 ? "on a random port" : "on port " + std::to_string(port);
}

}  // namespace

NatsServerProcess::NatsServerProcess() {
  std::string pattern = (std::filesystem::temp_directory_path() / "edge-nats-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  directory_ = pattern;
  store_dir_ = directory_ / "store";
  try {
    start(-1);
  } catch (...) {
    remove_directory();
    throw;
  }
}

NatsServerProcess::~NatsServerProcess() {
  process_.reset();  // ChildProcess kills and reaps
  remove_directory();
}

void NatsServerProcess::remove_directory() noexcept {
  std::error_code ignored;
  std::filesystem::remove_all(directory_, ignored);
}

void NatsServerProcess::start(int port) {
  ++runs_;
  log_file_ = directory_ / ("server-" + std::to_string(runs_) + ".log");
  std::vector<std::string> arguments{
      server_binary(), "--addr",      "127.0.0.1",         "--port", std::to_string(port),
      "--jetstream",   "--store_dir", store_dir_.string(), "--log",  log_file_.string()};
  process_ = std::make_unique<ChildProcess>(std::move(arguments));

  const auto deadline = std::chrono::steady_clock::now() + kStartDeadline;
  for (;;) {
    const std::string text = log();
    if (text.find("Server is ready") != std::string::npos) {
      port_ = listening_port(text);
      if (port_ > 0) return;
    }
    const bool exited = process_->has_exited();
    if (exited || std::chrono::steady_clock::now() >= deadline) {
      const ChildProcess::Exit exit = process_->wait(1s);  // collects its stderr
      const std::string errors = process_->errors();
      process_.reset();
      std::string message = "nats-server (" + arguments_text(port) + ") ";
      message += exited ? "exited (status " + std::to_string(exit.code) + ", signal " +
                              std::to_string(exit.signal) + ")"
                        : "did not get ready within 20 s";
      message += "; its log:\n";
      message += text;
      message += "\nits stderr:\n";
      message += errors;
      throw std::runtime_error(message);
    }
    std::this_thread::sleep_for(5ms);
  }
}

void NatsServerProcess::end(int signal_number) {
  if (!process_) return;
  if (signal_number == SIGTERM) process_->send_signal(SIGCONT);  // a paused server cannot exit
  process_->send_signal(signal_number);
  const ChildProcess::Exit exit =
      process_->wait(std::chrono::duration_cast<std::chrono::milliseconds>(kStopDeadline));
  process_.reset();
  if (exit.timed_out) {
    throw std::runtime_error("nats-server on port " + std::to_string(port_) +
                             " did not exit within 20 s of signal " +
                             std::to_string(signal_number) + "; its log:\n" + log());
  }
}

void NatsServerProcess::stop() { end(SIGTERM); }

void NatsServerProcess::kill() { end(SIGKILL); }

void NatsServerProcess::pause() {
  if (!process_) return;
  process_->send_signal(SIGSTOP);
  // kill() returns before the signal has stopped every thread: a request
  // sent right away could still be answered. Wait for the group stop.
  const auto deadline = std::chrono::steady_clock::now() + kStopDeadline;
  while (!all_threads_stopped(process_->pid())) {
    if (std::chrono::steady_clock::now() >= deadline) {
      throw std::runtime_error("nats-server on port " + std::to_string(port_) +
                               " did not stop within 20 s of SIGSTOP");
    }
    std::this_thread::sleep_for(1ms);
  }
}

void NatsServerProcess::resume() {
  if (process_) process_->send_signal(SIGCONT);
}

void NatsServerProcess::restart() {
  stop();
  start(port_);
}

std::string NatsServerProcess::log() const { return read_file(log_file_); }

}  // namespace edge::test
