#include <edge/errors.hpp>
#include <edge/sandbox.hpp>

#include "sandbox/sandbox_state.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <system_error>

namespace edge {
namespace {

bool is_executable(const std::filesystem::path& file) {
  std::error_code error;
  return std::filesystem::is_regular_file(file, error) && ::access(file.c_str(), X_OK) == 0;
}

void print_output(std::string_view function_id, pid_t pid, std::string_view text, bool truncated) {
  std::fprintf(stderr, "[worker %d of function %.*s] %.*s%s\n", static_cast<int>(pid),
               static_cast<int>(function_id.size()), function_id.data(),
               static_cast<int>(text.size()), text.data(),
               truncated ? " [output limit reached]" : "");
}

}  // namespace

std::filesystem::path find_worker_binary() {
  if (const char* given = std::getenv("EDGE_WORKER_BINARY"); given != nullptr && *given != '\0') {
    return is_executable(given) ? std::filesystem::path(given) : std::filesystem::path();
  }
  std::error_code error;
  const std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (!error) {
    for (const char* relative : {"edge-worker", "../libexec/edge/edge-worker"}) {
      std::filesystem::path candidate = (executable.parent_path() / relative).lexically_normal();
      if (is_executable(candidate)) return candidate;
    }
  }
  for (const char* built_in : {EDGE_WORKER_INSTALL_PATH, EDGE_WORKER_BUILD_PATH}) {
    if (is_executable(built_in)) return built_in;
  }
  return {};
}

Sandbox::State::State(SandboxOptions sandbox_options, sandbox::Zygote::OutputHandler on_output)
    : options(std::move(sandbox_options)), zygote(options.worker_binary, std::move(on_output)) {
  if (options.use_cgroups) {
    memory_cgroup = sandbox::find_cgroup_parent("memory");
    pids_cgroup = sandbox::find_cgroup_parent("pids");
  }
  memory_limit_mode = memory_cgroup ? memory_cgroup->describe("memory") : "RLIMIT_AS";
  process_limit_mode = pids_cgroup ? pids_cgroup->describe("pids") : "RLIMIT_NPROC";
}

sandbox::SpawnRequest Sandbox::State::spawn_request(std::string function_id,
                                                    const std::filesystem::path& plugin,
                                                    double memory_mb) const {
  sandbox::SpawnRequest request;
  request.function_id = std::move(function_id);
  request.plugin_path = plugin.string();
  request.memory_limit_bytes = static_cast<std::uint64_t>(memory_mb * 1024 * 1024);
  if (memory_cgroup) {
    request.memory_cgroup = memory_cgroup->directory.string();
    request.memory_cgroup_version =
        memory_cgroup->version == sandbox::CgroupVersion::V2 ? "2" : "1";
  } else {
    request.address_space_limit = true;
  }
  if (pids_cgroup) request.pids_cgroup = pids_cgroup->directory.string();
  request.max_processes = options.max_processes;
  request.max_open_files = options.max_open_files;
  request.output_limit_bytes = static_cast<std::uint32_t>(options.output_limit_bytes);
  request.seccomp = options.seccomp;
  return request;
}

namespace {

SandboxOptions with_worker_binary(SandboxOptions options) {
  if (options.worker_binary.empty()) options.worker_binary = find_worker_binary();
  if (options.worker_binary.empty() || !is_executable(options.worker_binary)) {
    throw Error("cannot run process-isolated functions: no edge-worker program " +
                (options.worker_binary.empty()
                     ? std::string("found (set EDGE_WORKER_BINARY, or install it beside edge-host)")
                     : "at " + options.worker_binary.string()));
  }
  if (!options.on_output) options.on_output = print_output;
  return options;
}

}  // namespace

Sandbox::Sandbox(SandboxOptions options) {
  SandboxOptions resolved = with_worker_binary(std::move(options));
  auto forward = resolved.on_output;
  state_ = std::make_unique<State>(
      std::move(resolved),
      [forward](const std::string& function_id, const sandbox::WorkerOutput& output) {
        forward(function_id, output.pid, output.bytes, output.truncated);
      });
}

Sandbox::~Sandbox() = default;

void Sandbox::start() {
  try {
    state_->zygote.start();
  } catch (const sandbox::SpawnFailed& error) {
    throw Error(error.what());
  }
}

const SandboxOptions& Sandbox::options() const noexcept { return state_->options; }
const std::filesystem::path& Sandbox::worker_binary() const noexcept {
  return state_->options.worker_binary;
}
const std::string& Sandbox::memory_limit_mode() const noexcept { return state_->memory_limit_mode; }
const std::string& Sandbox::process_limit_mode() const noexcept {
  return state_->process_limit_mode;
}
pid_t Sandbox::zygote_pid() const { return state_->zygote.pid(); }

std::shared_ptr<Sandbox> Sandbox::shared_default() {
  static std::mutex mutex;
  static std::weak_ptr<Sandbox> shared;
  std::lock_guard lock(mutex);
  std::shared_ptr<Sandbox> sandbox = shared.lock();
  if (!sandbox) {
    sandbox = std::make_shared<Sandbox>();
    shared = sandbox;
  }
  return sandbox;
}

}  // namespace edge
