// A private temporary directory for a test, removed with everything in it,
// and the two ways users replace a plugin file.
#pragma once

#include <doctest/doctest.h>

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

namespace edge::test {

class ScratchDir {
 public:
  explicit ScratchDir(const std::string& prefix = "edge-test") {
    std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::filesystem::path& path() const noexcept { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// `cp source target`: rewrites target in place (same inode, truncated first).
inline void copy_over(const std::filesystem::path& source, const std::filesystem::path& target) {
  std::filesystem::copy_file(source, target, std::filesystem::copy_options::overwrite_existing);
}

// `cp source target.new && mv target.new target`: a new inode replaces the
// old one in one step. The temporary name does not end in ".so".
inline void move_into_place(const std::filesystem::path& source,
                            const std::filesystem::path& target) {
  const std::filesystem::path temporary = target.string() + ".new";
  std::filesystem::copy_file(source, temporary, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::rename(temporary, target);
}

inline void write_file(const std::filesystem::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << text;
  REQUIRE(out.good());
}

// Every byte of the file; empty if it cannot be read.
inline std::string file_bytes(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Open descriptors of this process.
inline std::size_t open_descriptor_count() {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd"))
    ++count;
  return count;
}

// Lines of /proc/self/maps: grows with every library left mapped.
inline std::size_t mapping_count() {
  std::ifstream maps("/proc/self/maps");
  std::size_t count = 0;
  for (std::string line; std::getline(maps, line);) ++count;
  return count;
}

// Mappings of the plugin store's copies (files named <64 hex digits>.so).
inline std::size_t plugin_copy_mapping_count() {
  std::ifstream maps("/proc/self/maps");
  std::size_t count = 0;
  for (std::string line; std::getline(maps, line);) {
    const std::size_t slash = line.rfind('/');
    if (slash == std::string::npos) continue;
    const std::string name = line.substr(slash + 1);
    if (name.size() == 67 && name.compare(64, 3, ".so") == 0 &&
        name.find_first_not_of("0123456789abcdef") == 64) {
      ++count;
    }
  }
  return count;
}

inline bool is_mapped(const std::string& needle) {
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    if (line.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace edge::test
