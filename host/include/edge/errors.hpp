// The exception types of the host's public API (the spec's errors).
//
// Across the C ABI errors are result codes; inside the host they become these.
// Unknown function or node ids are std::invalid_argument (the spec's ValueError).
#pragma once

#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace edge {

// Base of every error the host raises on purpose.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An invocation failed: the handler threw, the plugin reported an error, or
// its plugin could not be loaded. what() carries the function's own message.
class EdgeExecutionError : public Error {
 public:
  using Error::Error;
};

// The call took longer than the function's timeout_seconds, or the plugin
// gave up because its deadline passed.
class TimeoutError : public EdgeExecutionError {
 public:
  using EdgeExecutionError::EdgeExecutionError;
};

// A plugin could not be loaded: not a shared library, missing entry symbol,
// ABI mismatch, undersized descriptor, failing init. Names the file.
class PluginError : public EdgeExecutionError {
 public:
  using EdgeExecutionError::EdgeExecutionError;
};

// The function already runs as many calls as its max_in_flight allows; the
// call was refused without running (HTTP 429).
class BusyError : public EdgeExecutionError {
 public:
  using EdgeExecutionError::EdgeExecutionError;
};

// A process-isolated function's worker died during the call: a signal
// (SIGSEGV, abort), exit() inside the plugin, or a broken protocol. what()
// names the cause. Only that call fails; the next call starts a new worker.
class WorkerCrashError : public EdgeExecutionError {
 public:
  using EdgeExecutionError::EdgeExecutionError;
};

// A process-isolated function went over its memory_mb and its worker died.
class MemoryLimitError : public WorkerCrashError {
 public:
  using WorkerCrashError::WorkerCrashError;
};

// The function's workers crashed too often recently: calls fail fast, without
// starting a worker, until the cool-down passes (or the plugin changes).
class CircuitOpenError : public EdgeExecutionError {
 public:
  CircuitOpenError(const std::string& message, double retry_after_seconds)
      : EdgeExecutionError(message), retry_after_seconds_(retry_after_seconds) {}
  double retry_after_seconds() const noexcept { return retry_after_seconds_; }

 private:
  double retry_after_seconds_;
};

// The node chosen for a call did not answer within the function's timeout,
// or could not be reached at all (a remote node's host is gone). The call
// may or may not have run there: only an idempotent function is retried.
class NodeUnavailableError : public TimeoutError {
 public:
  using TimeoutError::TimeoutError;
};

// A function could not be deployed (invalid spec, no room, no capability).
class DeploymentError : public Error {
 public:
  using Error::Error;
};

// A topology file is unusable. what() is "file:line:column: message" with a
// 1-based line and column (0 when the position is unknown, e.g. unreadable).
class ConfigError : public Error {
 public:
  ConfigError(std::filesystem::path file, std::size_t line, std::size_t column,
              const std::string& message)
      : Error(file.string() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " +
              message),
        file_(std::move(file)),
        line_(line),
        column_(column) {}

  const std::filesystem::path& file() const noexcept { return file_; }
  std::size_t line() const noexcept { return line_; }
  std::size_t column() const noexcept { return column_; }

 private:
  std::filesystem::path file_;
  std::size_t line_;
  std::size_t column_;
};

}  // namespace edge
