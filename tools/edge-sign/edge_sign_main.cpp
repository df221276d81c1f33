// edge-sign: Ed25519 keys and detached plugin signatures for edge-host's
// security.trusted_keys / require_signatures (config/README.md).
//
//   edge-sign keygen --private FILE --public FILE
//   edge-sign sign --key PRIVATE.pem PLUGIN.so      writes PLUGIN.so.sig
//   edge-sign verify --key PUBLIC.pem PLUGIN.so     exit 0 valid, 1 not
//
// Exit status: 0 success, 1 failure (bad signature, unreadable file), 2 a
// wrong command line.
#include <edge/errors.hpp>

#include "plugin/signature.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

constexpr std::string_view kUsage =
    "Usage: edge-sign keygen --private FILE --public FILE\n"
    "       edge-sign sign --key PRIVATE.pem PLUGIN.so\n"
    "       edge-sign verify --key PUBLIC.pem PLUGIN.so\n"
    "\n"
    "keygen writes a new Ed25519 key pair as PEM (the private key mode 0600; an\n"
    "existing file is never overwritten). sign writes PLUGIN.so.sig, the base64\n"
    "Ed25519 signature of the plugin's exact bytes, which edge-host checks against\n"
    "security.trusted_keys. verify checks it and exits 0 (valid) or 1.\n";

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// --name VALUE pairs and positional arguments, each option at most once.
struct Arguments {
  std::map<std::string, std::string, std::less<>> options;
  std::vector<std::string> positional;

  std::string required(std::string_view name) const {
    const auto found = options.find(name);
    if (found == options.end()) throw UsageError("missing " + std::string(name) + " FILE");
    return found->second;
  }
};

Arguments parse(int argc, char** argv, std::initializer_list<std::string_view> allowed,
                std::size_t positional_count) {
  Arguments arguments;
  for (int index = 2; index < argc; ++index) {
    const std::string_view argument = argv[index];
    if (argument.starts_with("--")) {
      bool known = false;
      for (const std::string_view name : allowed) known = known || name == argument;
      if (!known) throw UsageError("unknown option '" + std::string(argument) + "'");
      if (index + 1 >= argc) throw UsageError(std::string(argument) + " needs a value");
      if (!arguments.options.emplace(std::string(argument), argv[++index]).second) {
        throw UsageError(std::string(argument) + " given twice");
      }
    } else {
      arguments.positional.emplace_back(argument);
    }
  }
  if (arguments.positional.size() != positional_count) {
    throw UsageError(positional_count == 0 ? "unexpected argument '" + arguments.positional[0] + "'"
                                           : "expected one PLUGIN.so argument");
  }
  return arguments;
}

// Writes `text` to a new file `path` with `mode`; refuses to replace one.
void write_new_file(const std::filesystem::path& path, const std::string& text, mode_t mode) {
  const int descriptor = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (descriptor < 0) {
    throw edge::Error("cannot create " + path.string() + ": " +
                      std::error_code(errno, std::generic_category()).message());
  }
  const bool written =
      ::write(descriptor, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool closed = ::close(descriptor) == 0;
  if (!written || !closed) throw edge::Error("cannot write " + path.string());
}

int keygen(const Arguments& arguments) {
  const std::filesystem::path private_file = arguments.required("--private");
  const std::filesystem::path public_file = arguments.required("--public");
  const edge::Ed25519Key key = edge::Ed25519Key::generate();
  write_new_file(private_file, key.private_pem(), 0600);
  write_new_file(public_file, key.public_pem(), 0644);
  std::cout << "wrote " << private_file.string() << " (private, keep it secret) and "
            << public_file.string() << " (public: list it in security.trusted_keys)\n";
  return 0;
}

int sign(const Arguments& arguments) {
  const edge::Ed25519Key key = edge::Ed25519Key::read_private(arguments.required("--key"));
  const std::filesystem::path plugin = arguments.positional[0];
  const std::filesystem::path signature = edge::signature_path_for(plugin);
  // Written beside it under a temporary name, then renamed: a watcher never
  // sees half a signature.
  const std::filesystem::path temporary = signature.string() + ".tmp";
  std::filesystem::remove(temporary);
  write_new_file(temporary, edge::sign_bytes(key, edge::read_file_bytes(plugin)), 0644);
  std::filesystem::rename(temporary, signature);
  std::cout << "wrote " << signature.string() << '\n';
  return 0;
}

int verify(const Arguments& arguments) {
  const std::filesystem::path key_file = arguments.required("--key");
  const edge::Ed25519Key key = edge::Ed25519Key::read_public(key_file);
  const std::filesystem::path plugin = arguments.positional[0];
  const std::filesystem::path signature = edge::signature_path_for(plugin);
  std::error_code error;
  if (!std::filesystem::exists(signature, error)) {
    std::cerr << "edge-sign: " << plugin.string() << " is not signed: no " << signature.string()
              << '\n';
    return kExitFailure;
  }
  if (!edge::verify_bytes(key, edge::read_file_bytes(plugin), edge::read_file_bytes(signature))) {
    std::cerr << "edge-sign: " << signature.string() << " is not a valid signature of "
              << plugin.string() << " by " << key_file.string() << '\n';
    return kExitFailure;
  }
  std::cout << "ok: " << plugin.string() << " is signed by " << key_file.string() << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::string_view command = argc > 1 ? argv[1] : "";
    if (command == "--help" || command == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (command == "keygen") return keygen(parse(argc, argv, {"--private", "--public"}, 0));
    if (command == "sign") return sign(parse(argc, argv, {"--key"}, 1));
    if (command == "verify") return verify(parse(argc, argv, {"--key"}, 1));
    throw UsageError(command.empty() ? "missing a command"
                                     : "unknown command '" + std::string(command) + "'");
  } catch (const UsageError& error) {
    std::cerr << "edge-sign: " << error.what() << "\n\n" << kUsage;
    return kExitUsage;
  } catch (const std::exception& error) {
    std::cerr << "edge-sign: error: " << error.what() << '\n';
    return kExitFailure;
  }
}
