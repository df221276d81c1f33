#include "plugin/file_permissions.hpp"

#include <sys/stat.h>

#include <cstdio>

namespace edge {
namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

constexpr const char* kFix =
    "; fix with chmod go-w or set security.allow_writable_plugins: true for development";

}  // namespace

std::optional<std::string> writable_plugin_problem(const std::filesystem::path& plugin) {
  struct stat status {};
  if (::stat(plugin.c_str(), &status) == 0 && (status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "plugin " + plugin.string() + " is writable by other users (mode " +
           octal_mode(status.st_mode) + ")" + kFix;
  }
  std::filesystem::path directory = plugin.parent_path();
  if (directory.empty()) directory = ".";
  if (::stat(directory.c_str(), &status) == 0 && (status.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    return "plugin " + plugin.string() + " is in directory " + directory.string() +
           ", which is writable by other users (mode " + octal_mode(status.st_mode) + ")" + kFix;
  }
  return std::nullopt;
}

}  // namespace edge
