// Refusing plugins that other users could have rewritten, as sshd's
// StrictModes refuses an authorized_keys file others may write: a plugin runs
// with the host's privileges, so whoever can write the file (or replace it
// in its directory) can run code as the host.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace edge {

// Why `plugin` must not be loaded: the file (symlinks followed) or the
// directory that holds it is writable by group or others (mode & 022).
// The message names the path and its mode and says how to fix it. nullopt
// when neither is, or when a stat fails (the load then reports the file).
std::optional<std::string> writable_plugin_problem(const std::filesystem::path& plugin);

}  // namespace edge
