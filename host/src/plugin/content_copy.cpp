#include "plugin/content_copy.hpp"

#include "plugin/sha256.hpp"
#include "util/file_descriptor.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <system_error>
#include <vector>

namespace edge {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Removes the temporary file unless the copy is handed to the caller.
struct TemporaryFile {
  std::filesystem::path path;
  bool keep = false;
  ~TemporaryFile() {
    if (!keep && !path.empty()) ::unlink(path.c_str());
  }
};

void write_all(int descriptor, const char* data, std::size_t size,
               const std::filesystem::path& target) {
  while (size > 0) {
    const ssize_t written = ::write(descriptor, data, size);
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write " + target.string());
    }
    data += written;
    size -= static_cast<std::size_t>(written);
  }
}

}  // namespace

ContentCopy copy_with_hash(const std::filesystem::path& file,
                           const std::filesystem::path& directory) {
  const FileDescriptor input(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!input) fail("cannot open " + file.string());
  struct stat before {};
  if (::fstat(input.get(), &before) != 0) fail("cannot stat " + file.string());
  if (!S_ISREG(before.st_mode)) {
    errno = EISDIR;
    fail(file.string() + " is not a regular file");
  }

  std::string name = (directory / ".partial-XXXXXX").string();
  std::vector<char> name_buffer(name.begin(), name.end());
  name_buffer.push_back('\0');
  const FileDescriptor output(::mkostemp(name_buffer.data(), O_CLOEXEC));
  if (!output) fail("cannot create a file in the plugin cache " + directory.string());
  TemporaryFile temporary{name_buffer.data()};

  const std::string sha256 =
      sha256_of_stream(input.get(), file, [&](const char* data, std::size_t size) {
        write_all(output.get(), data, size, temporary.path);
      });
  // Read-only and executable for the owner: nothing rewrites a copy in place
  // (a rewrite under a mapped library is the crash this store exists to avoid).
  if (::fchmod(output.get(), S_IRUSR | S_IXUSR) != 0)
    fail("cannot chmod " + temporary.path.string());

  struct stat after {};
  if (::fstat(input.get(), &after) != 0) fail("cannot stat " + file.string());
  ContentCopy copy;
  copy.identity = FileIdentity::of(before);
  copy.stable = copy.identity == FileIdentity::of(after);
  copy.sha256 = sha256;
  copy.temporary = temporary.path;
  temporary.keep = true;
  return copy;
}

}  // namespace edge
