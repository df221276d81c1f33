// The YAML topology loader (edge::load_topology) on fuzzed files. The loader
// reads a path, so every input is written to one file in a private temporary
// directory; the plugin directory is overridden (TopologyOptions) with one
// holding a copy of the echo plugin, so that functions naming a plugin reach
// the descriptor defaults and never load anything else from the build.
// ConfigError is the only expected failure: any other exception escapes and
// libFuzzer reports it.
#include <edge/errors.hpp>
#include <edge/topology.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace {

namespace fs = std::filesystem;

struct Scratch {
  fs::path directory;
  fs::path topology;
  fs::path plugins;
};

Scratch make_scratch() {
  std::string pattern = (fs::temp_directory_path() / "edge-fuzz-topology-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) {
    std::perror("fuzz_topology: mkdtemp");
    std::abort();
  }
  Scratch scratch{pattern, fs::path(pattern) / "topology.yaml", fs::path(pattern) / "plugins"};
  fs::create_directory(scratch.plugins);
  fs::copy_file(fs::path(EDGE_FUZZ_PLUGIN_DIR) / "echo.so", scratch.plugins / "echo.so");
  fs::permissions(scratch.plugins / "echo.so", fs::perms(0644));
  return scratch;
}

const Scratch& scratch() {
  static const Scratch instance = make_scratch();
  return instance;
}

void write_file(const fs::path& path, const std::uint8_t* data, std::size_t size) {
  const int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (file < 0) std::abort();
  while (size > 0) {
    const ssize_t written = ::write(file, data, size);
    if (written <= 0) std::abort();
    data += written;
    size -= static_cast<std::size_t>(written);
  }
  ::close(file);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)scratch();
  // The scratch directory goes with the process.
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(scratch().directory, ignored);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  write_file(scratch().topology, data, size);
  edge::TopologyOptions options;
  options.plugin_dir = scratch().plugins;
  try {
    const edge::Topology topology = edge::load_topology(scratch().topology, options);
    (void)topology.server.listen.to_string();
  } catch (const edge::ConfigError&) {
  }
  return 0;
}
