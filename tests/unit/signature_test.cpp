// Ed25519 detached plugin signatures: what verifies, and every way it does
// not (a changed plugin, a changed signature, another key, no signature).
#include <edge/errors.hpp>

#include "plugin/security_check.hpp"
#include "plugin/signature.hpp"
#include "scratch_dir.hpp"
#include "signing_helpers.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <filesystem>
#include <string>

using namespace edge;
using edge::test::KeyPair;
using edge::test::ScratchDir;

namespace {

// The PluginError message of verifying `plugin` (empty: it verified).
std::string refusal(const TrustedKeys& keys, const std::filesystem::path& plugin,
                    bool required = true) {
  try {
    keys.verify(plugin, plugin, required, "plugin " + plugin.string());
  } catch (const PluginError& error) {
    return error.what();
  }
  return {};
}

struct Signed {
  ScratchDir dir{"edge-signature"};
  KeyPair trusted{dir.path(), "trusted"};
  std::filesystem::path plugin = dir / "echo.so";
  TrustedKeys keys{{trusted.public_file}};

  Signed() {
    edge::test::copy_over(edge::test::plugin("echo"), plugin);
    trusted.sign(plugin);
  }
};

}  // namespace

TEST_CASE("a plugin signed by a trusted key verifies; the .sig is base64 text") {
  const Signed signed_plugin;
  CHECK(refusal(signed_plugin.keys, signed_plugin.plugin).empty());
  const std::string text = read_file_bytes(signature_path_for(signed_plugin.plugin));
  CHECK(text.size() == 89);  // 88 base64 characters and a newline
  CHECK(text.substr(86) == "==\n");
  // Any of several keys will do.
  const KeyPair other(signed_plugin.dir.path(), "other");
  const TrustedKeys both({other.public_file, signed_plugin.trusted.public_file});
  CHECK(refusal(both, signed_plugin.plugin).empty());
}

TEST_CASE("one flipped byte in the plugin is refused, naming the signature file") {
  const Signed signed_plugin;
  edge::test::flip_byte(signed_plugin.plugin, 1000);
  const std::string message = refusal(signed_plugin.keys, signed_plugin.plugin);
  CHECK(message.find("plugin " + signed_plugin.plugin.string() + ": signature " +
                     signed_plugin.plugin.string() + ".sig does not verify") == 0);
  CHECK(message.find("the plugin or its signature was changed") != std::string::npos);
}

TEST_CASE("one flipped byte in the signature is refused") {
  const Signed signed_plugin;
  const std::filesystem::path signature = signature_path_for(signed_plugin.plugin);
  std::string text = read_file_bytes(signature);
  text[10] = text[10] == 'A' ? 'B' : 'A';  // still base64: other signature bytes
  edge::test::write_file(signature, text);
  CHECK(refusal(signed_plugin.keys, signed_plugin.plugin).find("does not verify") !=
        std::string::npos);

  edge::test::write_file(signature, "not a signature\n");
  CHECK(refusal(signed_plugin.keys, signed_plugin.plugin).find("is malformed") !=
        std::string::npos);
}

TEST_CASE("a signature by a key that is not trusted is refused") {
  const Signed signed_plugin;
  const KeyPair stranger(signed_plugin.dir.path(), "stranger");
  stranger.sign(signed_plugin.plugin);
  CHECK(refusal(signed_plugin.keys, signed_plugin.plugin)
            .find("does not verify with any of the 1 trusted key") != std::string::npos);
}

TEST_CASE("a missing signature is refused only when signatures are required") {
  const Signed signed_plugin;
  std::filesystem::remove(signature_path_for(signed_plugin.plugin));
  const std::string message = refusal(signed_plugin.keys, signed_plugin.plugin);
  CHECK(message.find("not signed: no signature file " + signed_plugin.plugin.string() + ".sig") !=
        std::string::npos);
  CHECK(message.find("require_signatures") != std::string::npos);
  CHECK(refusal(signed_plugin.keys, signed_plugin.plugin, /*required=*/false).empty());
}

TEST_CASE(
    "PluginSecurityCheck: require_signatures refuses an unsigned plugin; no policy checks "
    "nothing") {
  const Signed signed_plugin;
  PluginSecurityPolicy policy;
  policy.trusted_keys = {signed_plugin.trusted.public_file};
  policy.require_signatures = true;
  const PluginSecurityCheck check(policy);
  CHECK_NOTHROW(check.check(signed_plugin.plugin, signed_plugin.plugin, "p"));
  std::filesystem::remove(signature_path_for(signed_plugin.plugin));
  CHECK_THROWS_WITH_AS(check.check(signed_plugin.plugin, signed_plugin.plugin, "p"),
                       doctest::Contains("not signed"), PluginError);
  CHECK_NOTHROW(PluginSecurityCheck().check(signed_plugin.plugin, signed_plugin.plugin, "p"));
}

TEST_CASE("a key file that is not an Ed25519 public key is an error naming it") {
  ScratchDir dir("edge-signature");
  const std::filesystem::path garbage = dir / "garbage.pem";
  edge::test::write_file(garbage, "hello\n");
  const std::string expected = "key file " + garbage.string() + ": expected an Ed25519 public key";
  CHECK_THROWS_WITH_AS(TrustedKeys({garbage}), doctest::Contains(expected.c_str()), Error);
  // A private key where a public one is expected is refused too.
  const KeyPair pair(dir.path(), "pair");
  edge::test::write_file(dir / "private.pem", pair.key.private_pem());
  CHECK_THROWS_AS(TrustedKeys({dir / "private.pem"}), Error);
  CHECK_THROWS_AS(TrustedKeys({dir / "missing.pem"}), Error);
}
