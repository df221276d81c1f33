#include "fleet/artifact_directory.hpp"

#include "util/file_descriptor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <vector>

namespace edge::fleet {
namespace {

[[noreturn]] void throw_errno(const std::string& what, int error) {
  throw std::system_error(error, std::generic_category(), what);
}

void write_all(int descriptor, std::string_view bytes, const std::filesystem::path& file) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(descriptor, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      throw_errno("cannot write artifact file " + file.string(), errno);
    }
    bytes.remove_prefix(static_cast<std::size_t>(written));
  }
}

// Removes the temporary file unless it was renamed into place.
struct TemporaryFile {
  std::filesystem::path path;
  bool kept = false;
  ~TemporaryFile() {
    if (!kept) ::unlink(path.c_str());
  }
};

}  // namespace

ArtifactDirectory::ArtifactDirectory(std::filesystem::path directory)
    : directory_(std::move(directory)) {
  std::error_code error;
  std::filesystem::create_directories(directory_, error);
  if (error)
    throw std::system_error(error, "cannot create artifact directory " + directory_.string());
}

std::filesystem::path ArtifactDirectory::path_of(std::string_view sha256) const {
  return directory_ / (std::string(sha256) + ".so");
}

std::optional<std::filesystem::path> ArtifactDirectory::find(std::string_view sha256) const {
  std::filesystem::path path = path_of(sha256);
  std::error_code error;
  if (!std::filesystem::is_regular_file(path, error)) return std::nullopt;
  return path;
}

std::filesystem::path ArtifactDirectory::write(std::string_view sha256,
                                               std::string_view bytes) const {
  std::filesystem::path target = path_of(sha256);
  std::string pattern = (directory_ / ("." + std::string(sha256) + ".XXXXXX")).string();
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  FileDescriptor file(::mkstemp(name.data()));
  if (!file) throw_errno("cannot create a temporary file in " + directory_.string(), errno);
  TemporaryFile temporary{name.data()};

  write_all(file.get(), bytes, temporary.path);
  if (::fsync(file.get()) != 0) throw_errno("cannot fsync " + temporary.path.string(), errno);
  if (::fchmod(file.get(), 0444) != 0) {
    throw_errno("cannot make " + temporary.path.string() + " read-only", errno);
  }
  file.reset();
  if (::rename(temporary.path.c_str(), target.c_str()) != 0) {
    throw_errno("cannot rename " + temporary.path.string() + " to " + target.string(), errno);
  }
  temporary.kept = true;
  // The rename is durable only once the directory's entry is on disk.
  const FileDescriptor directory(::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!directory || ::fsync(directory.get()) != 0) {
    throw_errno("cannot fsync artifact directory " + directory_.string(), errno);
  }
  return target;
}

}  // namespace edge::fleet
