#include "sandbox/frame.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace edge::sandbox;

TEST_CASE("frames survive being cut anywhere in the stream") {
  const std::string stream = encode_frame(FrameType::Output, "hello") +
                             encode_frame(FrameType::Loaded, "") +
                             encode_frame(FrameType::Invoke, InvokeRequest{42, "input"}.encode());
  for (std::size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder decoder;
    std::vector<Frame> frames;
    decoder.feed(std::string_view(stream).substr(0, cut));
    while (auto frame = decoder.next()) frames.push_back(*frame);
    decoder.feed(std::string_view(stream).substr(cut));
    while (auto frame = decoder.next()) frames.push_back(*frame);
    REQUIRE(frames.size() == 3);
    CHECK(frames[0].type == FrameType::Output);
    CHECK(frames[0].payload == "hello");
    CHECK(frames[1].payload.empty());
    const InvokeRequest invoke = InvokeRequest::decode(frames[2].payload);
    CHECK(invoke.budget_ns == 42);
    CHECK(invoke.input == "input");
    CHECK(decoder.buffered() == 0);
  }
}

TEST_CASE("a spawn request round-trips") {
  SpawnRequest request;
  request.function_id = "f";
  request.plugin_path = "/p/f.so";
  request.environment = {{"A", "1"}, {"B", ""}};
  request.init_budget_ns = 5;
  request.memory_limit_bytes = 1 << 20;
  request.memory_cgroup = "/sys/fs/cgroup/memory/x";
  request.memory_cgroup_version = "1";
  request.address_space_limit = true;
  request.max_processes = 7;
  request.max_open_files = 9;
  request.output_limit_bytes = 11;
  request.seccomp = false;
  const SpawnRequest copy = SpawnRequest::decode(request.encode());
  CHECK(copy.function_id == "f");
  CHECK(copy.plugin_path == "/p/f.so");
  CHECK(copy.environment == request.environment);
  CHECK(copy.memory_limit_bytes == request.memory_limit_bytes);
  CHECK(copy.memory_cgroup == request.memory_cgroup);
  CHECK(copy.address_space_limit);
  CHECK(copy.max_processes == 7);
  CHECK(copy.max_open_files == 9);
  CHECK(copy.output_limit_bytes == 11);
  CHECK_FALSE(copy.seccomp);
}

TEST_CASE("malformed bytes from a peer are a ProtocolError, never a crash") {
  FrameDecoder bad_magic;
  bad_magic.feed(std::string("XX\x01\x0c\0\0\0\0", 8));
  CHECK_THROWS_AS(bad_magic.next(), ProtocolError);

  FrameDecoder bad_type;
  bad_type.feed(std::string("EW\x01\x63\0\0\0\0", 8));
  CHECK_THROWS_AS(bad_type.next(), ProtocolError);

  FrameDecoder oversized;
  oversized.feed(std::string("EW\x01\x0c\xff\xff\xff\xff", 8));
  CHECK_THROWS_AS(oversized.next(), ProtocolError);

  // A string length running past the payload, and bytes left over.
  CHECK_THROWS_AS(CallFailure::decode(std::string("\x01\xff\xff\x00\x00"
                                                  "ab",
                                                  7)),
                  ProtocolError);
  CHECK_THROWS_AS(LogLine::decode(LogLine{1, "x"}.encode() + "!"), ProtocolError);
  CHECK_THROWS_AS(WorkerExit::decode(std::string(9, '\0') + "\x02"), ProtocolError);
}
