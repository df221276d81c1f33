// PluginStore: plugins load from content-addressed copies, bad contents are
// quarantined by hash until the file changes, and nothing leaks (descriptors,
// mappings, cache files) over many loads; pins, file modes and signatures are
// checked at every load without quarantining the content.
#include <edge/errors.hpp>
#include <edge/plugin_store.hpp>
#include <edge/runtime.hpp>

#include "concurrency/epoch.hpp"
#include "plugin/loaded_plugin.hpp"
#include "plugin/sha256.hpp"
#include "scratch_dir.hpp"
#include "signing_helpers.hpp"
#include "test_paths.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

using namespace edge;
using edge::test::fixture;
using edge::test::plugin;
using edge::test::ScratchDir;

namespace {

std::unique_ptr<LoadedPlugin> load(PluginStore& store, const std::filesystem::path& file,
                                   std::string_view function_id = "f") {
  PluginInitContext context{
      function_id, nullptr, std::chrono::steady_clock::now() + std::chrono::seconds(5), {}};
  return store.load(file, context);
}

std::string load_error(PluginStore& store, const std::filesystem::path& file,
                       std::string_view function_id = "f") {
  try {
    load(store, file, function_id);
  } catch (const PluginError& error) {
    return error.what();
  }
  FAIL("expected a PluginError for " << file);
  return {};
}

// Runtime with a store, one plugin function named `id` on `file`.
std::unique_ptr<EdgeRuntime> runtime_with(std::shared_ptr<PluginStore> store, const std::string& id,
                                          const std::filesystem::path& file) {
  auto runtime = std::make_unique<EdgeRuntime>(EdgeNode("node-1"), std::move(store));
  EdgeFunction function{id};
  function.plugin = file;
  runtime->deploy(function);
  return runtime;
}

// A new version of `id` (same definition): its next call is a cold start.
void redeploy(EdgeRuntime& runtime, const std::string& id) { runtime.deploy(runtime.function(id)); }

std::size_t files_in(const std::filesystem::path& directory) {
  std::size_t count = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(directory)) ++count;
  return count;
}

}  // namespace

TEST_CASE("the store loads a copy named by the content's SHA-256, never the file itself") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "echo.so";
  edge::test::copy_over(plugin("echo"), file);
  PluginStore store;
  const std::string sha256 = sha256_of_file(file);

  const std::unique_ptr<LoadedPlugin> loaded = load(store, file);
  CHECK(loaded->sha256() == sha256);
  CHECK(loaded->info().file == file);  // status names the user's file
  CHECK(loaded->info().name == "echo");
  const std::filesystem::path copy = store.cache_dir() / (sha256 + ".so");
  CHECK(std::filesystem::exists(copy));
  CHECK(edge::test::is_mapped(copy.string()));
  CHECK_FALSE(edge::test::is_mapped(file.string()));
  CHECK(store.sha256(file) == sha256);
  CHECK(store.libraries_opened() == 1);
}

TEST_CASE("an unchanged file is neither read nor copied again") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "echo.so";
  edge::test::copy_over(plugin("echo"), file);
  PluginStore store;
  const std::string sha256 = store.sha256(file);
  struct stat first {};
  REQUIRE(::stat((store.cache_dir() / (sha256 + ".so")).c_str(), &first) == 0);
  for (int i = 0; i < 3; ++i) load(store, file);
  struct stat later {};
  REQUIRE(::stat((store.cache_dir() / (sha256 + ".so")).c_str(), &later) == 0);
  CHECK(later.st_ino == first.st_ino);  // the same copy, not a fresh one
  // reread copies again, and the same content keeps its copy.
  CHECK(store.sha256(file, /*reread=*/true) == sha256);
}

TEST_CASE("a copy removed behind the store's back (a tmp cleaner) is made again") {
  PluginStore store;
  const std::string sha256 = store.sha256(plugin("echo"));
  std::filesystem::remove(store.cache_dir() / (sha256 + ".so"));
  CHECK(load(store, plugin("echo"))->sha256() == sha256);
  CHECK(std::filesystem::exists(store.cache_dir() / (sha256 + ".so")));
  CHECK(store.quarantined().empty());
}

TEST_CASE("two contents at one path load distinct code, cp over it or mv into place") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "hot.so";
  edge::test::copy_over(plugin("echo"), file);
  auto store = std::make_shared<PluginStore>();
  auto runtime = runtime_with(store, "hot", file);
  CHECK(runtime->invoke("hot", "abc") == "abc");
  const std::string echo_sha256 = runtime->get_function_stats("hot").plugin_sha256;
  CHECK(echo_sha256 == sha256_of_file(plugin("echo")));

  edge::test::copy_over(plugin("counter"), file);  // same inode, new bytes
  CHECK(runtime->invoke("hot", "abc") == "abc");   // the warm version is untouched
  redeploy(*runtime, "hot");
  CHECK(runtime->invoke("hot", "abc") == "1");
  CHECK(runtime->get_function_stats("hot").plugin_sha256 == sha256_of_file(plugin("counter")));

  if (std::filesystem::exists(plugin("reverse"))) {
    edge::test::move_into_place(plugin("reverse"), file);
    redeploy(*runtime, "hot");
    CHECK(runtime->invoke("hot", "abc") == "cba");
  }
  edge::test::move_into_place(plugin("echo"), file);
  redeploy(*runtime, "hot");
  CHECK(runtime->invoke("hot", "abc") == "abc");
  CHECK(runtime->get_function_stats("hot").plugin_sha256 == echo_sha256);
  runtime.reset();
  concurrency::EpochDomain::global().synchronize();
  // Only the file's current content keeps a copy; older ones were collected.
  CHECK(files_in(store->cache_dir()) == 1);
}

TEST_CASE("a plugin failing its checks is quarantined by hash until the content changes") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "bad.so";
  edge::test::copy_over(fixture("wrong_abi"), file);
  std::vector<QuarantinedPlugin> reported;
  PluginStoreOptions options;
  options.on_quarantine = [&](const QuarantinedPlugin& entry) { reported.push_back(entry); };
  auto store = std::make_shared<PluginStore>(options);
  auto runtime = runtime_with(store, "bad", file);
  const std::string bad_sha256 = sha256_of_file(file);

  auto call_error = [&] {
    try {
      runtime->invoke("bad", "x");
    } catch (const PluginError& error) {
      return std::string(error.what());
    }
    FAIL("expected a PluginError");
    return std::string();
  };
  const std::string first = call_error();
  CHECK(first.find("ABI version mismatch") != std::string::npos);
  CHECK(first.find(file.string()) != std::string::npos);
  CHECK(first.find(bad_sha256) != std::string::npos);
  CHECK(store->libraries_opened() == 1);
  REQUIRE(reported.size() == 1);
  CHECK(reported[0].sha256 == bad_sha256);
  CHECK(reported[0].file == file);
  CHECK(reported[0].function_id.empty());
  CHECK(reported[0].reason.find("ABI version mismatch") == 0);

  for (int i = 0; i < 3; ++i) {
    const std::string again = call_error();
    CHECK(again.find("is quarantined: ABI version mismatch") != std::string::npos);
    CHECK(again.find(bad_sha256) != std::string::npos);
  }
  CHECK(store->libraries_opened() == 1);  // failed fast: never opened again
  CHECK(reported.size() == 1);
  FunctionStats stats = runtime->get_function_stats("bad");
  CHECK(stats.quarantined);
  CHECK(stats.quarantine_sha256 == bad_sha256);
  CHECK(stats.quarantine_reason.find("ABI version mismatch") == 0);
  CHECK(stats.last_error.find("is quarantined") != std::string::npos);
  CHECK(stats.plugin_sha256.empty());
  CHECK(stats.errors == 4);
  CHECK(stats.to_json()["quarantined"] == true);

  // A new content at the same path is a new hash: it loads at once.
  edge::test::copy_over(plugin("echo"), file);
  CHECK(runtime->invoke("bad", "fixed") == "fixed");
  stats = runtime->get_function_stats("bad");
  CHECK_FALSE(stats.quarantined);
  CHECK(stats.last_error.empty());
  CHECK(stats.plugin_sha256 == sha256_of_file(plugin("echo")));
  CHECK(store->quarantined().size() == 1);  // the bad content stays refused
  CHECK(load_error(*store, dir / "nothing.so").find("plugin file not found") != std::string::npos);
}

TEST_CASE("a failing init quarantines the content for that function only; lifting retries it") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "init.so";
  edge::test::copy_over(fixture("init_fail"), file);
  PluginStore store;
  CHECK(load_error(store, file, "first").find("init refused: missing calibration") !=
        std::string::npos);
  CHECK(load_error(store, file, "first").find("is quarantined for function 'first'") !=
        std::string::npos);
  CHECK(store.libraries_opened() == 1);
  // Another function may have the environment init needs: it still tries.
  CHECK(load_error(store, file, "second").find("init failed") != std::string::npos);
  CHECK(store.libraries_opened() == 2);
  REQUIRE(store.quarantined().size() == 2);
  CHECK(store.quarantined()[0].function_id == "first");
  CHECK(store.quarantine_of(file, "first").has_value());
  CHECK_FALSE(store.quarantine_of(file, "third").has_value());
  CHECK(store.quarantined()[0].to_json()["function_id"] == "first");

  CHECK(store.lift_quarantine(store.sha256(file)));
  CHECK_FALSE(store.lift_quarantine(store.sha256(file)));
  CHECK(load_error(store, file, "first").find("init failed") != std::string::npos);
  CHECK(store.libraries_opened() == 3);
}

TEST_CASE("the cache directory: private by default, created or shared when given") {
  std::filesystem::path private_dir;
  {
    PluginStore store;
    private_dir = store.cache_dir();
    CHECK(std::filesystem::is_directory(private_dir));
    CHECK((std::filesystem::status(private_dir).permissions() & std::filesystem::perms::all) ==
          std::filesystem::perms::owner_all);
    load(store, plugin("echo"));
  }
  CHECK_FALSE(std::filesystem::exists(private_dir));

  ScratchDir dir("edge-store");
  {
    PluginStoreOptions options;
    options.cache_dir = dir / "made";
    PluginStore store(options);
    load(store, plugin("echo"));
    CHECK(files_in(dir / "made") == 1);
  }
  CHECK_FALSE(std::filesystem::exists(dir / "made"));  // it made it, it removes it

  edge::test::write_file(dir / "keep.txt", "not ours");
  {
    PluginStoreOptions options;
    options.cache_dir = dir.path();
    PluginStore store(options);
    load(store, plugin("echo"));
    CHECK(files_in(dir.path()) == 2);
  }
  CHECK(files_in(dir.path()) == 1);  // only its own copy went
  CHECK(std::filesystem::exists(dir / "keep.txt"));

  PluginStoreOptions not_a_directory;
  not_a_directory.cache_dir = dir / "keep.txt";
  CHECK_THROWS_AS(PluginStore{not_a_directory}, Error);
}

TEST_CASE("200 loads and unloads leave no descriptor open") {
  PluginStore store;
  load(store, plugin("echo"));  // warms up lazily opened descriptors, if any
  const std::size_t before = edge::test::open_descriptor_count();
  for (int i = 0; i < 200; ++i) {
    load(store, plugin(i % 2 == 0 ? "echo" : "counter"));
    (void)load_error(store, fixture("wrong_abi"));
  }
  CHECK(edge::test::open_descriptor_count() == before);
}

TEST_CASE("1,000 deploy, invoke, undeploy cycles leave no mapping behind") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "echo.so";
  edge::test::copy_over(plugin("echo"), file);
  EdgeRuntime runtime(EdgeNode("node-1"), std::make_shared<PluginStore>());
  EdgeFunction function{"echo"};
  function.plugin = file;
  const auto cycle = [&] {
    runtime.deploy(function);
    CHECK(runtime.invoke_detailed("echo", "x").cold_start);
    runtime.undeploy("echo");
    concurrency::EpochDomain::global().synchronize();  // the old version (and library) goes now
  };
  for (int i = 0; i < 10; ++i) cycle();
  const std::size_t before = edge::test::mapping_count();
  for (int i = 0; i < 1000; ++i) cycle();
  CHECK(edge::test::plugin_copy_mapping_count() == 0);  // every copy really unmapped
#if !defined(__SANITIZE_ADDRESS__)
  // (ASan's allocator maps regions of its own as it goes: this count is only
  // meaningful without it; the line above is.)
  CHECK(edge::test::mapping_count() <= before);
#else
  (void)before;
#endif
}

TEST_CASE("inspect reads a content's descriptor once, naming the user's file") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "p.so";
  edge::test::copy_over(plugin("sleep"), file);
  PluginStore store;
  const PluginInfo info = store.inspect(file);
  CHECK(info.file == file);
  CHECK(info.name == "sleep");
  CHECK(info.default_timeout_ms == 30000);
  CHECK(store.inspect(file).name == "sleep");
  CHECK(store.libraries_opened() == 1);  // remembered by hash

  edge::test::copy_over(fixture("wrong_abi"), file);
  try {
    store.inspect(file);
    FAIL("expected a PluginError");
  } catch (const PluginError& error) {
    const std::string message = error.what();
    CHECK(message.find("plugin " + file.string() + " (sha256 " + sha256_of_file(file) + "): ABI") ==
          0);
  }
}

namespace {

std::unique_ptr<LoadedPlugin> load_pinned(PluginStore& store, const std::filesystem::path& file,
                                          std::string_view pin) {
  PluginInitContext context{"pinned", nullptr,
                            std::chrono::steady_clock::now() + std::chrono::seconds(5), pin};
  return store.load(file, context);
}

std::string error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const PluginError& error) {
    return error.what();
  }
  FAIL("expected a PluginError");
  return {};
}

}  // namespace

TEST_CASE("a pinned load of another content is refused, naming both hashes, and not quarantined") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "p.so";
  edge::test::copy_over(plugin("echo"), file);
  const std::string echo_hash = sha256_of_file(file);
  const std::string counter_hash = sha256_of_file(plugin("counter"));
  PluginStore store;
  CHECK(error_of([&] { load_pinned(store, file, counter_hash); }) ==
        "plugin " + file.string() + " has sha256 " + echo_hash + ", but function 'pinned' pins " +
            counter_hash);
  CHECK(store.quarantined().empty());
  CHECK(store.libraries_opened() == 0);  // refused before opening
  CHECK(load_pinned(store, file, echo_hash)->sha256() == echo_hash);

  // Without a store, loading by path hashes the file.
  PluginInitContext context{
      "pinned", nullptr, std::chrono::steady_clock::now() + std::chrono::seconds(5), counter_hash};
  CHECK(error_of([&] {
          LoadedPlugin::load(file, context);
        }).find("but function 'pinned' pins " + counter_hash) != std::string::npos);
  context.pinned_sha256 = echo_hash;
  CHECK(LoadedPlugin::load(file, context)->sha256() == echo_hash);
}

TEST_CASE("a runtime deploys a pin: a mismatched file fails its cold start, the right one loads") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "p.so";
  edge::test::copy_over(plugin("echo"), file);
  auto store = std::make_shared<PluginStore>();
  EdgeRuntime runtime(EdgeNode("node-1"), store);
  EdgeFunction function{"f"};
  function.plugin = file;
  function.plugin_sha256 = sha256_of_file(plugin("counter"));
  runtime.deploy(function);
  CHECK(error_of([&] { runtime.invoke("f", "x"); }).find("but function 'f' pins") !=
        std::string::npos);
  CHECK_FALSE(runtime.get_function_stats("f").quarantined);
  edge::test::move_into_place(plugin("counter"), file);
  CHECK(runtime.invoke("f", "x") == "1");

  function.plugin_sha256 = "ABC";
  CHECK_THROWS_WITH_AS(runtime.deploy(function), doctest::Contains("64 lowercase hex digits"),
                       DeploymentError);
}

TEST_CASE("a plugin others may write is refused at load, not quarantined, unless allowed") {
  ScratchDir dir("edge-store");
  const std::filesystem::path file = dir / "p.so";
  edge::test::copy_over(plugin("echo"), file);
  std::filesystem::permissions(file, std::filesystem::perms(0666));
  PluginStore store;
  const std::string message = load_error(store, file);
  CHECK(message.find("is writable by other users (mode 0666); fix with chmod go-w") !=
        std::string::npos);
  CHECK(store.quarantined().empty());
  CHECK(store.libraries_opened() == 0);
  CHECK_THROWS_AS(store.inspect(file), PluginError);

  std::filesystem::permissions(file, std::filesystem::perms(0644));
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0777));
  CHECK(load_error(store, file).find("which is writable by other users (mode 0777)") !=
        std::string::npos);
  std::filesystem::permissions(dir.path(), std::filesystem::perms(0700));
  CHECK(load(store, file) != nullptr);  // fixed: loads at once, nothing was quarantined

  std::filesystem::permissions(file, std::filesystem::perms(0666));
  PluginStoreOptions options;
  options.security.allow_writable_plugins = true;
  PluginStore lenient(options);
  CHECK(load(lenient, file) != nullptr);
}

TEST_CASE("with require_signatures, a store loads only plugins whose copy verifies") {
  ScratchDir dir("edge-store");
  const edge::test::KeyPair trusted(dir.path(), "trusted");
  const std::filesystem::path file = dir / "p.so";
  edge::test::copy_over(plugin("echo"), file);
  PluginStoreOptions options;
  options.security.trusted_keys = {trusted.public_file};
  options.security.require_signatures = true;
  PluginStore store(options);

  CHECK(load_error(store, file).find("not signed: no signature file") != std::string::npos);
  CHECK(store.quarantined().empty());
  trusted.sign(file);
  CHECK(load(store, file) != nullptr);

  // A signature of other bytes (the file was swapped, its .sig kept).
  edge::test::move_into_place(plugin("counter"), file);
  CHECK(load_error(store, file).find("does not verify") != std::string::npos);
  CHECK(store.quarantined().empty());
  trusted.sign(file);
  CHECK(load(store, file) != nullptr);

  // A bad key file is refused when the store is made.
  PluginStoreOptions bad;
  bad.security.trusted_keys = {dir / "missing.pub"};
  CHECK_THROWS_AS(PluginStore{bad}, Error);
}
