#include "host_process.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <system_error>

namespace edge::test {
namespace {

const std::string kHost = EDGE_HOST_BINARY;
const std::string kPluginDir = EDGE_TEST_PLUGIN_DIR;

}  // namespace

TemporaryDirectory::TemporaryDirectory() {
  std::string pattern = (std::filesystem::temp_directory_path() / "edge-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
  }
  path_ = pattern;
}

TemporaryDirectory::~TemporaryDirectory() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

ScopedEnvironment::ScopedEnvironment(std::string name, const std::string& value)
    : name_(std::move(name)) {
  if (const char* previous = std::getenv(name_.c_str())) previous_ = previous;
  // NOLINTNEXTLINE(concurrency-mt-unsafe): tests change it from the test thread only
  ::setenv(name_.c_str(), value.c_str(), 1);
}

ScopedEnvironment::~ScopedEnvironment() {
  if (previous_) {
    // NOLINTNEXTLINE(concurrency-mt-unsafe): as above
    ::setenv(name_.c_str(), previous_->c_str(), 1);
  } else {
    ::unsetenv(name_.c_str());  // NOLINT(concurrency-mt-unsafe): as above
  }
}

HostProcess::HostProcess(const std::string& topology, std::vector<std::string> arguments,
                         std::chrono::milliseconds timeout, std::string plugin_dir) {
  const std::filesystem::path file = config();
  std::ofstream(file) << topology;
  if (plugin_dir.empty()) plugin_dir = kPluginDir;
  std::vector<std::string> command{kHost,      "--config", file.string(), "--plugin-dir",
                                   plugin_dir, "--listen", "127.0.0.1:0"};
  command.insert(command.end(), arguments.begin(), arguments.end());
  process_.emplace(std::move(command));

  // "listening on" is followed by the "running" line, so once that is here
  // the port's line is complete.
  constexpr std::string_view kListening = "listening on 127.0.0.1:";
  if (!process_->read_output_until("edge-host: running", timeout)) {
    throw std::runtime_error("edge-host did not start listening; stdout: '" + process_->output() +
                             "', stderr: '" + process_->errors() + "'");
  }
  const std::string& output = process_->output();
  const std::size_t at = output.find(kListening);
  if (at == std::string::npos) {
    throw std::runtime_error("edge-host printed no 'listening on' line: '" + output + "'");
  }
  port_ = static_cast<std::uint16_t>(std::stoi(output.substr(at + kListening.size())));
}

ChildProcess::Exit HostProcess::stop(int signal_number, std::chrono::milliseconds timeout) {
  process_->send_signal(signal_number);
  return process_->wait(timeout);
}

}  // namespace edge::test
