#include "plugin/elf_check.hpp"

#include <elf.h>
#include <link.h>
#include <cstring>
#include <fstream>
#include <vector>

namespace edge {

std::optional<std::string> check_elf_file(const std::filesystem::path& file) {
  std::error_code error;
  const std::uintmax_t size = std::filesystem::file_size(file, error);
  if (error) return "cannot read file size: " + error.message();
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::string("cannot open the file for reading");

  // ElfW(Ehdr) is the native ELF class: a 64-bit host loads 64-bit plugins.
  ElfW(Ehdr) header{};
  if (size < sizeof(header) || !in.read(reinterpret_cast<char*>(&header), sizeof(header))) {
    return "not an ELF shared library: only " + std::to_string(size) + " bytes";
  }
  if (std::memcmp(header.e_ident, ELFMAG, SELFMAG) != 0) {
    return std::string("not an ELF shared library: bad magic number");
  }
  if (header.e_ident[EI_CLASS] != (sizeof(void*) == 8 ? ELFCLASS64 : ELFCLASS32)) {
    return std::string("built for another word size (32/64-bit) than this host");
  }
  if (header.e_type != ET_DYN) return std::string("not a shared library (ELF type is not ET_DYN)");
  if (header.e_phentsize != sizeof(ElfW(Phdr))) return std::string("malformed program header size");

  const std::uintmax_t headers_end = static_cast<std::uintmax_t>(header.e_phoff) +
                                     std::uintmax_t{header.e_phnum} * header.e_phentsize;
  if (headers_end > size) {
    return "truncated: program headers end at byte " + std::to_string(headers_end) + " of " +
           std::to_string(size);
  }
  std::vector<ElfW(Phdr)> segments(header.e_phnum);
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  if (!in.read(reinterpret_cast<char*>(segments.data()),
               static_cast<std::streamsize>(segments.size() * sizeof(ElfW(Phdr))))) {
    return std::string("cannot read the program headers");
  }
  for (const ElfW(Phdr) & segment : segments) {
    if (segment.p_type != PT_LOAD && segment.p_type != PT_DYNAMIC) continue;
    const std::uintmax_t end = static_cast<std::uintmax_t>(segment.p_offset) + segment.p_filesz;
    if (end > size) {
      return "truncated: a segment ends at byte " + std::to_string(end) + " but the file has " +
             std::to_string(size) + " bytes";
    }
  }
  return std::nullopt;
}

}  // namespace edge
