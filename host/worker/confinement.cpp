#include "confinement.hpp"

#include <dirent.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <system_error>
#include <vector>

namespace edge::worker {
namespace {

constexpr const char* kDenied[] = {"ptrace",
                                   "process_vm_readv",
                                   "process_vm_writev",
                                   "pidfd_getfd",
                                   "kexec_load",
                                   "kexec_file_load",
                                   "init_module",
                                   "finit_module",
                                   "delete_module",
                                   "mount",
                                   "umount2",
                                   "pivot_root",
                                   "chroot",
                                   "move_mount",
                                   "open_tree",
                                   "fsopen",
                                   "fsmount",
                                   "fspick",
                                   "mount_setattr",
                                   "unshare",
                                   "setns",
                                   "swapon",
                                   "swapoff",
                                   "reboot",
                                   "bpf",
                                   "perf_event_open",
                                   "userfaultfd",
                                   "keyctl",
                                   "add_key",
                                   "request_key",
                                   "acct",
                                   "settimeofday",
                                   "clock_settime",
                                   "clock_adjtime",
                                   "adjtimex",
                                   "sethostname",
                                   "setdomainname",
                                   "iopl",
                                   "ioperm",
                                   "open_by_handle_at",
                                   "name_to_handle_at",
                                   "quotactl",
                                   "syslog",
                                   "vhangup",
                                   "fanotify_init",
                                   "lookup_dcookie",
                                   nullptr};

std::string failure(const char* what) {
  return std::string(what) + ": " + std::generic_category().message(errno);
}

bool set_limit(int resource, rlim_t value) {
  const rlimit limit{value, value};
  return ::setrlimit(resource, &limit) == 0;
}

// The address space this process maps now (libraries, the zygote's heap):
// the baseline the memory limit comes on top of.
rlim_t mapped_bytes() {
  FILE* statm = std::fopen("/proc/self/statm", "re");
  if (statm == nullptr) return 0;
  unsigned long pages = 0;
  if (std::fscanf(statm, "%lu", &pages) != 1) pages = 0;
  std::fclose(statm);
  return static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE));
}

// Processes of this process's real user now (what RLIMIT_NPROC counts).
rlim_t user_process_count() {
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  rlim_t count = 0;
  const uid_t user = ::getuid();
  while (const dirent* entry = ::readdir(proc)) {
    if (entry->d_name[0] < '0' || entry->d_name[0] > '9') continue;
    struct stat status {};
    if (::fstatat(::dirfd(proc), entry->d_name, &status, 0) == 0 && status.st_uid == user) ++count;
  }
  ::closedir(proc);
  return count;
}

// The filter as a BPF program, compiled once (in the zygote, before any
// fork): libseccomp probes the kernel and compiles its rules, which is most
// of the cost; every worker then only installs the result (one system call).
struct CompiledFilter {
  std::vector<sock_filter> program;
  std::string error;
};

CompiledFilter compile_filter() {
  CompiledFilter compiled;
  scmp_filter_ctx filter = ::seccomp_init(SCMP_ACT_ALLOW);
  if (filter == nullptr) {
    compiled.error = "seccomp_init failed";
    return compiled;
  }
  for (const char* const* name = kDenied; *name != nullptr; ++name) {
    const int number = ::seccomp_syscall_resolve_name(*name);
    if (number == __NR_SCMP_ERROR) continue;  // not on this architecture
    if (::seccomp_rule_add(filter, SCMP_ACT_ERRNO(EPERM), number, 0) != 0) {
      compiled.error = std::string("seccomp rule for ") + *name + " failed";
      ::seccomp_release(filter);
      return compiled;
    }
  }
  const int memory = ::memfd_create("edge-seccomp", MFD_CLOEXEC);
  if (memory < 0 || ::seccomp_export_bpf(filter, memory) != 0) {
    compiled.error = "exporting the seccomp filter failed";
  } else {
    const off_t size = ::lseek(memory, 0, SEEK_END);
    compiled.program.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
    if (size <= 0 ||
        ::pread(memory, compiled.program.data(), static_cast<std::size_t>(size), 0) != size) {
      compiled.error = "reading the exported seccomp filter failed";
      compiled.program.clear();
    }
  }
  if (memory >= 0) ::close(memory);
  ::seccomp_release(filter);
  return compiled;
}

const CompiledFilter& compiled_filter() {
  static const CompiledFilter compiled = compile_filter();
  return compiled;
}

}  // namespace

const char* const* denied_system_calls() noexcept { return kDenied; }

void prepare_confinement() { (void)compiled_filter(); }

std::string confine_process(bool seccomp) {
  if (!set_limit(RLIMIT_CORE, 0)) return failure("RLIMIT_CORE");
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return failure("PR_SET_NO_NEW_PRIVS");
  if (!seccomp) return {};
  const CompiledFilter& filter = compiled_filter();
  if (!filter.error.empty()) return filter.error;
  const sock_fprog program{static_cast<unsigned short>(filter.program.size()),
                           const_cast<sock_filter*>(filter.program.data())};
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0) != 0) {
    return failure("installing the seccomp filter");
  }
  return {};
}

std::string confine_for(const sandbox::SpawnRequest& request) {
  if (request.max_open_files != 0 && !set_limit(RLIMIT_NOFILE, request.max_open_files)) {
    return failure("RLIMIT_NOFILE");
  }
  if (request.address_space_limit && request.memory_limit_bytes != 0 &&
      !set_limit(RLIMIT_AS, mapped_bytes() + request.memory_limit_bytes)) {
    return failure("RLIMIT_AS");
  }
  // Without a pids cgroup: RLIMIT_NPROC counts every process of the user,
  // so it is the user's count now plus the worker's allowance. (It does not
  // bind root; docs/sandbox.md says so.)
  if (request.pids_cgroup.empty() && request.max_processes != 0 &&
      !set_limit(RLIMIT_NPROC, user_process_count() + request.max_processes)) {
    return failure("RLIMIT_NPROC");
  }
  if (::clearenv() != 0) return "clearenv failed";
  for (const auto& [name, value] : request.environment) {
    if (::setenv(name.c_str(), value.c_str(), 1) != 0) return failure("setenv");
  }
  return {};
}

}  // namespace edge::worker
