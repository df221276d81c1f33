// The real edge-host serving its HTTP API on a free port, for tests: writes
// the topology to a temporary file, starts the host on --listen 127.0.0.1:0
// with the build's plugins, and reads the port from "listening on
// 127.0.0.1:PORT". The destructor kills a host still running.
#pragma once

#include "child_process.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace edge::test {

// A fresh directory under the system's temporary directory, removed with
// its contents by the destructor.
class TemporaryDirectory {
 public:
  TemporaryDirectory();
  ~TemporaryDirectory();
  TemporaryDirectory(const TemporaryDirectory&) = delete;
  TemporaryDirectory& operator=(const TemporaryDirectory&) = delete;
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets an environment variable (inherited by children started meanwhile)
// and restores the previous value on destruction. Not thread-safe.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::string name, const std::string& value);
  ~ScopedEnvironment();
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::string name_;
  std::optional<std::string> previous_;
};

class HostProcess {
 public:
  // `topology` is the YAML text without plugin_dir (the build's plugins are
  // given with --plugin-dir). `arguments` come after the host's own; the
  // default keeps stderr quiet (warnings only), since the test does not read
  // the pipe while it talks HTTP. Throws std::runtime_error with the host's
  // output when it does not start listening within `timeout`.
  // `plugin_dir`, when given, replaces the build's plugin directory.
  explicit HostProcess(const std::string& topology,
                       std::vector<std::string> arguments = {"--log-level", "warn"},
                       std::chrono::milliseconds timeout = std::chrono::seconds(20),
                       std::string plugin_dir = {});

  // The topology file the host was started with (tests rewrite it for SIGHUP).
  std::filesystem::path config() const { return directory_.path() / "topology.yaml"; }

  std::uint16_t port() const noexcept { return port_; }
  ChildProcess& process() noexcept { return *process_; }

  // Sends the signal and waits for the host to exit.
  ChildProcess::Exit stop(int signal_number,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

 private:
  TemporaryDirectory directory_;
  std::optional<ChildProcess> process_;
  std::uint16_t port_ = 0;
};

}  // namespace edge::test
