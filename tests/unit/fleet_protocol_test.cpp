// The fleet protocol's calls, inventories and desired state: what one side
// encodes the other decodes, every failure class of a remote call comes back
// as the class the node's runtime threw, and a message that breaks the
// protocol is refused with a ProtocolError naming the part or field.
#include "fleet/protocol.hpp"

#include <edge/errors.hpp>

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>
#include <string>

using edge::fleet::CallOutcome;
using edge::fleet::CopyState;
using edge::fleet::DesiredCopy;
using edge::fleet::Inventory;
using edge::fleet::InventoryEntry;
using edge::fleet::ProtocolError;
using nlohmann::json;

namespace {

std::string protocol_error_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const ProtocolError& error) {
    return error.what();
  }
  FAIL("expected a ProtocolError");
  return {};
}

// The reply a node sends for `error`, decoded by the caller: rethrown.
template <typename Thrown>
void round_trip_exception(const Thrown& error, std::exception_ptr* caught) {
  const std::string reply = edge::fleet::encode_call_exception(std::make_exception_ptr(error));
  try {
    edge::fleet::decode_call_reply(reply, "gw.1");
  } catch (...) {
    *caught = std::current_exception();
  }
}

template <typename Expected, typename Thrown>
Expected rethrown_as(const Thrown& error) {
  std::exception_ptr caught;
  round_trip_exception(error, &caught);
  REQUIRE(caught);
  try {
    std::rethrow_exception(caught);
  } catch (const Expected& expected) {
    return expected;
  } catch (const std::exception& other) {
    FAIL("rethrown as another class: " << other.what());
  }
  throw std::logic_error("unreachable");
}

Inventory sample_inventory() {
  Inventory inventory;
  inventory.node = edge::EdgeNode("gw.1", "Gateway 1", "hall 2");
  inventory.node.capabilities = {"gpu", "camera"};
  inventory.node.max_functions = 7;
  inventory.node.status = edge::EdgeNodeStatus::Syncing;
  inventory.node.resources = {12.5, 300, 2048};
  inventory.boot_id = "b00t";
  InventoryEntry ready;
  ready.function_id = "echo";
  ready.sha256 = std::string(64, 'a');
  ready.stats.function_id = "echo";
  ready.stats.invocations = 12;
  ready.stats.errors = 2;
  ready.stats.timeouts = 1;
  ready.stats.cold_starts = 1;
  ready.stats.in_flight = 3;
  ready.stats.avg_duration_ms = 1.5;
  ready.stats.min_duration_ms = 0.25;
  ready.stats.max_duration_ms = 9;
  ready.stats.p50_ms = 1;
  ready.stats.p95_ms = 4;
  ready.stats.p99_ms = 8.5;
  ready.stats.is_warm = true;
  ready.stats.plugin_sha256 = std::string(64, 'a');
  ready.stats.last_error = "once failed";
  ready.stats.isolation = "process";
  InventoryEntry failed;
  failed.function_id = "resize";
  failed.sha256 = std::string(64, 'b');
  failed.state = CopyState::Failed;
  failed.error = "artifact bbbb: MD5 mismatch";
  failed.stats.function_id = "resize";
  inventory.functions = {ready, failed};
  return inventory;
}

DesiredCopy sample_desired() {
  DesiredCopy copy;
  copy.function = edge::EdgeFunction("thumbs.v2", "Thumbnails");
  copy.function.memory_mb = 96;
  copy.function.timeout_seconds = 2.5;
  copy.function.environment = {{"MODE", "fast"}};
  copy.function.required_capabilities = {"gpu"};
  copy.function.max_in_flight = 8;
  copy.function.isolation = edge::Isolation::Process;
  copy.function.max_workers = 3;
  copy.function.idempotent = true;
  copy.function.plugin_sha256 = std::string(64, 'c');
  copy.placement = edge::Placement::Pinned;
  copy.artifact = {std::string(64, 'c'), std::string(32, 'd'), 123456, 9};
  return copy;
}

// `payload` with the JSON value at `pointer` replaced (or removed: null).
std::string with(const std::string& payload, const std::string& pointer, const json& value) {
  json object = json::parse(payload);
  if (value.is_null()) {
    const json::json_pointer at(pointer);
    object[at.parent_pointer()].erase(at.back());
  } else {
    object[json::json_pointer(pointer)] = value;
  }
  return object.dump();
}

}  // namespace

TEST_CASE("fleet protocol: a call carries the function id and the input bytes as they are") {
  const std::string input("line one\nline two\0binary", 24);
  const std::string payload = edge::fleet::encode_call("resize.v2", input);
  CHECK(payload == "resize.v2\n" + input);
  const edge::fleet::CallRequest request = edge::fleet::decode_call(payload);
  CHECK(request.function_id == "resize.v2");
  CHECK(request.input == input);
  CHECK(edge::fleet::decode_call("echo\n").input.empty());

  CHECK(protocol_error_of([] { edge::fleet::decode_call("echo"); }) ==
        "call: no '\\n' after the function id");
  CHECK(protocol_error_of([] { edge::fleet::decode_call("bad id\nx"); }) ==
        "call: \"bad id\" is not a valid function id (1-128 of [A-Za-z0-9._-])");
  CHECK(protocol_error_of([] { edge::fleet::decode_call("\nx"); }) ==
        "call: \"\" is not a valid function id (1-128 of [A-Za-z0-9._-])");
}

TEST_CASE("fleet protocol: an answered call comes back with its output, cold start and duration") {
  edge::EdgeRuntime::CallResult result;
  result.output = std::string("out\nput\0", 8);
  result.cold_start = true;
  result.duration_ns = 1234567;
  const std::string reply = edge::fleet::encode_call_result(result);
  CHECK(reply == "K1 1234567\n" + result.output);
  const edge::EdgeRuntime::CallResult decoded = edge::fleet::decode_call_reply(reply, "gw.1");
  CHECK(decoded.output == result.output);
  CHECK(decoded.cold_start);
  CHECK(decoded.duration_ns == 1234567);
  CHECK_FALSE(edge::fleet::decode_call_reply("K0 0\n", "gw.1").cold_start);

  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("", "gw.1"); }) ==
        "call reply from node 'gw.1': empty");
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("Zwhat", "gw.1"); }) ==
        "call reply from node 'gw.1': unknown outcome \"Z\"");
  const std::string no_header =
      "call reply from node 'gw.1': expected \"<cold 0|1> <duration_ns>\\n\" before the output";
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("Kout", "gw.1"); }) == no_header);
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("K2 5\nout", "gw.1"); }) ==
        no_header);
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("K1 -5\nout", "gw.1"); }) ==
        "call reply from node 'gw.1': the duration is not a non-negative integer of nanoseconds");
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("K1 5x\nout", "gw.1"); }) ==
        "call reply from node 'gw.1': the duration is not a non-negative integer of nanoseconds");
}

TEST_CASE("fleet protocol: the runtime's failures cross the wire as the same classes") {
  CHECK(std::string(rethrown_as<edge::TimeoutError>(edge::TimeoutError("slow")).what()) ==
        "node 'gw.1': slow");
  CHECK(edge::fleet::encode_call_exception(
            std::make_exception_ptr(edge::NodeUnavailableError("gone"))) == "Tgone");
  CHECK(std::string(rethrown_as<edge::PluginError>(edge::PluginError("no symbol")).what()) ==
        "node 'gw.1': no symbol");
  CHECK(std::string(rethrown_as<edge::BusyError>(edge::BusyError("full")).what()) ==
        "node 'gw.1': full");
  // A memory limit is a worker crash too: it must not come back as a plain crash.
  CHECK(edge::fleet::encode_call_exception(
            std::make_exception_ptr(edge::MemoryLimitError("oom"))) == "Moom");
  CHECK(std::string(rethrown_as<edge::MemoryLimitError>(edge::MemoryLimitError("oom")).what()) ==
        "node 'gw.1': oom");
  CHECK(
      std::string(rethrown_as<edge::WorkerCrashError>(edge::WorkerCrashError("SIGSEGV")).what()) ==
      "node 'gw.1': SIGSEGV");
  const edge::CircuitOpenError open =
      rethrown_as<edge::CircuitOpenError>(edge::CircuitOpenError("breaker open", 2.75));
  CHECK(std::string(open.what()) == "node 'gw.1': breaker open");
  CHECK(open.retry_after_seconds() == 2.75);
  CHECK(std::string(rethrown_as<std::invalid_argument>(std::invalid_argument("unknown function x"))
                        .what()) == "node 'gw.1': unknown function x");
  CHECK(std::string(rethrown_as<edge::EdgeExecutionError>(edge::EdgeExecutionError("handler threw"))
                        .what()) == "node 'gw.1': handler threw");
  CHECK(edge::fleet::encode_call_exception(std::make_exception_ptr(std::runtime_error("odd"))) ==
        "Eodd");
  CHECK(edge::fleet::encode_call_exception(std::make_exception_ptr(42)) ==
        "Ethe call failed with an unknown exception");

  // NotReady is an execution error on the caller's side, not a timeout.
  const std::string not_ready =
      edge::fleet::encode_call_failure(CallOutcome::NotReady, "echo is still syncing");
  CHECK(not_ready == "Necho is still syncing");
  CHECK_THROWS_WITH_AS(edge::fleet::decode_call_reply(not_ready, "gw.1"),
                       "node 'gw.1': echo is still syncing", edge::EdgeExecutionError);
  CHECK(protocol_error_of([] { edge::fleet::decode_call_reply("Osoon open", "gw.1"); }) ==
        "call reply from node 'gw.1': a circuit-open reply without \"<retry_after_seconds> \"");
}

TEST_CASE("fleet protocol: an inventory round-trips what a controller shows") {
  const Inventory inventory = sample_inventory();
  const Inventory decoded = edge::fleet::decode_inventory(edge::fleet::encode(inventory));
  CHECK(decoded.node.id == "gw.1");
  CHECK(decoded.node.name == "Gateway 1");
  CHECK(decoded.node.location == "hall 2");
  CHECK(decoded.node.status == edge::EdgeNodeStatus::Syncing);
  CHECK(decoded.node.capabilities == std::vector<std::string>{"gpu", "camera"});
  CHECK(decoded.node.max_functions == 7);
  CHECK(decoded.node.resources.cpu_percent == 12.5);
  CHECK(decoded.node.resources.memory_mb == 300);
  CHECK(decoded.node.resources.memory_max_mb == 2048);
  CHECK(decoded.boot_id == "b00t");
  REQUIRE(decoded.functions.size() == 2);
  const InventoryEntry& echo = decoded.functions[0];
  CHECK(echo.function_id == "echo");
  CHECK(echo.state == CopyState::Ready);
  CHECK(echo.sha256 == std::string(64, 'a'));
  CHECK(echo.stats.function_id == "echo");
  CHECK(echo.stats.invocations == 12);
  CHECK(echo.stats.errors == 2);
  CHECK(echo.stats.timeouts == 1);
  CHECK(echo.stats.cold_starts == 1);
  CHECK(echo.stats.in_flight == 3);
  CHECK(echo.stats.avg_duration_ms == 1.5);
  CHECK(echo.stats.min_duration_ms == 0.25);
  CHECK(echo.stats.max_duration_ms == 9);
  CHECK(echo.stats.p50_ms == 1);
  CHECK(echo.stats.p95_ms == 4);
  CHECK(echo.stats.p99_ms == 8.5);
  CHECK(echo.stats.is_warm);
  CHECK(echo.stats.plugin_sha256 == std::string(64, 'a'));
  CHECK(echo.stats.last_error == "once failed");
  CHECK(echo.stats.isolation == "process");
  CHECK(decoded.functions[1].state == CopyState::Failed);
  CHECK(decoded.functions[1].error == "artifact bbbb: MD5 mismatch");
  CHECK(decoded.digest() == inventory.digest());
}

TEST_CASE("fleet protocol: the inventory digest follows placement, not counters or load") {
  const Inventory inventory = sample_inventory();
  const std::string digest = inventory.digest();
  CHECK(digest.size() == 64);

  Inventory busier = inventory;
  busier.functions[0].stats.invocations += 100;
  busier.node.resources.cpu_percent = 99;
  busier.boot_id = "another";
  CHECK(busier.digest() == digest);

  Inventory changed = inventory;
  changed.functions[1].state = CopyState::Ready;
  CHECK(changed.digest() != digest);
  changed = inventory;
  changed.functions[1].error = "another reason";
  CHECK(changed.digest() != digest);
  changed = inventory;
  changed.functions[0].sha256 = std::string(64, 'e');
  CHECK(changed.digest() != digest);
  changed = inventory;
  changed.node.status = edge::EdgeNodeStatus::Online;
  CHECK(changed.digest() != digest);
  changed = inventory;
  changed.node.capabilities.pop_back();
  CHECK(changed.digest() != digest);
  changed = inventory;
  changed.functions.pop_back();
  CHECK(changed.digest() != digest);
}

TEST_CASE("fleet protocol: an inventory that breaks the protocol names the field") {
  const std::string good = edge::fleet::encode(sample_inventory());
  const auto refusal = [](const std::string& payload) {
    return protocol_error_of([&] { edge::fleet::decode_inventory(payload); });
  };
  CHECK(refusal("[1]") == "inventory: not a JSON object");
  CHECK(refusal("{") == "inventory: not JSON (at byte 2)");
  CHECK(refusal(with(good, "/v", 2)) == "inventory: unknown version 2 (this host speaks 1)");
  CHECK(refusal(with(good, "/node/id", "a b")) ==
        "inventory: \"node.id\" is not a valid node id (1-128 of [A-Za-z0-9._-])");
  CHECK(refusal(with(good, "/node/status", "asleep")) ==
        "inventory: \"node.status\" must be online, offline, degraded, syncing or maintenance");
  CHECK(refusal(with(good, "/node/resources/cpu_percent", 120)) ==
        "inventory: \"node.resources.cpu_percent\" must be a finite number of at least 0 and at "
        "most 100");
  CHECK(refusal(with(good, "/node/capabilities", json::array({1}))) ==
        "inventory: \"node.capabilities\" must be an array of strings");
  CHECK(refusal(with(good, "/boot", nullptr)) == "inventory: missing \"boot\"");
  CHECK(refusal(with(good, "/functions/1/state", "lost")) ==
        "inventory: \"functions[1].state\" must be ready, syncing or failed");
  CHECK(refusal(with(good, "/functions/0/sha256", std::string(64, 'A'))) ==
        "inventory: \"functions[0].sha256\" must be 64 lowercase hex digits");
  CHECK(refusal(with(good, "/functions/0/sha256", "")) ==
        "inventory: \"functions[0].sha256\" must be 64 lowercase hex digits");
  // Only a copy whose desired state could not be read has no content.
  CHECK(edge::fleet::decode_inventory(with(good, "/functions/1/sha256", ""))
            .functions[1]
            .sha256.empty());
  CHECK(refusal(with(good, "/functions/0/stats/errors", -1)) ==
        "inventory: \"functions[0].stats.errors\" must be a non-negative integer");
  CHECK(refusal(with(good, "/functions/0/stats/p99_ms", "slow")) ==
        "inventory: \"functions[0].stats.p99_ms\" must be a number");
  CHECK(refusal(with(good, "/functions/1/id", "echo")) ==
        "inventory: function \"echo\" is listed twice");
  CHECK(refusal(with(good, "/functions", json::object())) ==
        "inventory: \"functions\" must be an array");
}

TEST_CASE("fleet protocol: a desired copy round-trips the definition and the artifact") {
  const DesiredCopy copy = sample_desired();
  const std::string payload = edge::fleet::encode(copy);
  CHECK(json::parse(payload)["placement"] == "pinned");
  CHECK_FALSE(json::parse(payload)["function"].contains("plugin"));
  const DesiredCopy decoded = edge::fleet::decode_desired(payload);
  CHECK(decoded.function.id == "thumbs.v2");
  CHECK(decoded.function.name == "Thumbnails");
  CHECK(decoded.function.plugin.empty());
  CHECK(decoded.function.memory_mb == 96);
  CHECK(decoded.function.timeout_seconds == 2.5);
  CHECK(decoded.function.environment == copy.function.environment);
  CHECK(decoded.function.required_capabilities == std::vector<std::string>{"gpu"});
  CHECK(decoded.function.max_in_flight == 8);
  CHECK(decoded.function.isolation == edge::Isolation::Process);
  CHECK(decoded.function.max_workers == 3);
  CHECK(decoded.function.idempotent);
  CHECK(decoded.function.plugin_sha256 == std::string(64, 'c'));
  CHECK(decoded.placement == edge::Placement::Pinned);
  CHECK(decoded.artifact.sha256 == copy.artifact.sha256);
  CHECK(decoded.artifact.md5 == copy.artifact.md5);
  CHECK(decoded.artifact.size == 123456);
  CHECK(decoded.artifact.version == 9);

  for (const auto placement : {edge::Placement::All, edge::Placement::LeastLoaded}) {
    DesiredCopy other = copy;
    other.placement = placement;
    CHECK(edge::fleet::decode_desired(edge::fleet::encode(other)).placement == placement);
  }
  // A definition that leaves the pin out gets the artifact's.
  DesiredCopy unpinned = copy;
  unpinned.function.plugin_sha256.clear();
  CHECK(edge::fleet::decode_desired(edge::fleet::encode(unpinned)).function.plugin_sha256 ==
        copy.artifact.sha256);
}

TEST_CASE("fleet protocol: a desired copy that breaks the protocol names the field") {
  const std::string good = edge::fleet::encode(sample_desired());
  const auto refusal = [](const std::string& payload) {
    return protocol_error_of([&] { edge::fleet::decode_desired(payload); });
  };
  CHECK(refusal("\"x\"") == "desired copy: not a JSON object");
  CHECK(refusal(with(good, "/v", "1")) ==
        "desired copy: unknown version \"1\" (this host speaks 1)");
  CHECK(refusal(with(good, "/function/id", "../x")) ==
        "desired copy: \"function.id\" is not a valid function id (1-128 of [A-Za-z0-9._-])");
  CHECK(refusal(with(good, "/function/memory_mb", 0)) ==
        "desired copy: \"function.memory_mb\" must be a finite number above 0");
  CHECK(refusal(with(good, "/function/timeout_seconds", -1.5)) ==
        "desired copy: \"function.timeout_seconds\" must be a finite number above 0");
  CHECK(refusal(with(good, "/function/max_workers", 65)) ==
        "desired copy: \"function.max_workers\" must be an integer from 1 to 64");
  CHECK(refusal(with(good, "/function/max_in_flight", 1.5)) ==
        "desired copy: \"function.max_in_flight\" must be an integer from 0 to 2147483647");
  CHECK(refusal(with(good, "/function/isolation", "vm")) ==
        "desired copy: \"function.isolation\" must be none or process");
  CHECK(refusal(with(good, "/function/environment", json{{"A", 1}})) ==
        "desired copy: \"function.environment\" must be an object of strings");
  CHECK(refusal(with(good, "/function/idempotent", "yes")) ==
        "desired copy: \"function.idempotent\" must be true or false");
  CHECK(refusal(with(good, "/function/plugin_sha256", std::string(64, 'f'))) ==
        "desired copy: \"function.plugin_sha256\" differs from \"artifact.sha256\"");
  CHECK(refusal(with(good, "/function/name", nullptr)) ==
        "desired copy: missing \"function.name\"");
  CHECK(refusal(with(good, "/placement", "random")) ==
        "desired copy: \"placement\" must be all, least_loaded or pinned");
  CHECK(refusal(with(good, "/artifact/sha256", "abc")) ==
        "desired copy: \"artifact.sha256\" must be 64 lowercase hex digits");
  CHECK(refusal(with(good, "/artifact/md5", std::string(32, 'G'))) ==
        "desired copy: \"artifact.md5\" must be 32 lowercase hex digits");
  CHECK(refusal(with(good, "/artifact/size", -3)) ==
        "desired copy: \"artifact.size\" must be a non-negative integer");
  CHECK(refusal(with(good, "/artifact", 5)) == "desired copy: \"artifact\" must be an object");
}
