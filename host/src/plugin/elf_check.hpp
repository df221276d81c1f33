// A sanity check of a shared library's ELF headers before dlopen maps it.
//
// dlopen trusts the program headers: a file cut short after them (a partial
// copy, a full disk) is mapped anyway and the loader then touches pages past
// the end of the file, which kills the process with SIGBUS. Checking that
// every segment lies inside the file turns that into a clear error.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace edge {

// Why `file` cannot be a loadable shared library for this host, or nullopt
// when its headers are consistent (dlopen still has the final word).
std::optional<std::string> check_elf_file(const std::filesystem::path& file);

}  // namespace edge
