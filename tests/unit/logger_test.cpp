// log::Logger: the text and JSON line formats, levels, and one write per line.
#include "log/logger.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <string>
#include <thread>
#include <vector>

namespace {

using edge::log::Format;
using edge::log::Level;
using edge::log::Logger;

constexpr std::string_view kStamp = "2024-05-01T12:34:56.789Z";

// A pipe whose read end collects what the logger writes.
class Capture {
 public:
  Capture() { REQUIRE(::pipe2(ends_.data(), O_CLOEXEC | O_NONBLOCK) == 0); }
  ~Capture() {
    ::close(ends_[0]);
    ::close(ends_[1]);
  }
  int descriptor() const { return ends_[1]; }
  std::string read() const {
    std::string text;
    std::array<char, 4096> buffer{};
    for (ssize_t count; (count = ::read(ends_[0], buffer.data(), buffer.size())) > 0;) {
      text.append(buffer.data(), static_cast<std::size_t>(count));
    }
    return text;
  }

 private:
  std::array<int, 2> ends_{-1, -1};
};

}  // namespace

TEST_CASE("text lines are logfmt: bare simple values, quoted and escaped others") {
  const Logger logger(Level::Info, Format::Text);
  CHECK(logger.format_line(Level::Info, kStamp, "request",
                           {{"method", "GET"}, {"status", 200}, {"ok", true}, {"ms", 1.5}}) ==
        "ts=2024-05-01T12:34:56.789Z level=info msg=request method=GET status=200 ok=true ms=1.5");
  CHECK(logger.format_line(Level::Warn, kStamp, "two words",
                           {{"path", "/a b"}, {"quote", "say \"hi\""}, {"ctl", "a\nb\x01"}}) ==
        "ts=2024-05-01T12:34:56.789Z level=warn msg=\"two words\" path=\"/a b\" "
        "quote=\"say \\\"hi\\\"\" ctl=\"a\\nb\\x01\"");
}

TEST_CASE("an empty string field is left out") {
  const Logger logger(Level::Info, Format::Text);
  CHECK(logger.format_line(Level::Info, kStamp, "m", {{"function", ""}, {"node", "n"}}) ==
        "ts=2024-05-01T12:34:56.789Z level=info msg=m node=n");
}

TEST_CASE("JSON lines are valid JSON objects, whatever bytes the fields hold") {
  const Logger logger(Level::Info, Format::Json);
  const std::string line = logger.format_line(Level::Error, kStamp, "failed \"x\"",
                                              {{"path", std::string_view("/\xff\xfe\0%", 5)},
                                               {"count", std::uint64_t{7}},
                                               {"delta", -3},
                                               {"utf8", "caf\xc3\xa9"}});
  const nlohmann::json parsed = nlohmann::json::parse(line);
  CHECK(parsed["ts"] == kStamp);
  CHECK(parsed["level"] == "error");
  CHECK(parsed["msg"] == "failed \"x\"");
  // U+FFFD for each byte that is not UTF-8; the NUL byte kept, escaped.
  CHECK(parsed["path"] == std::string("/\xef\xbf\xbd\xef\xbf\xbd\0%", 9));
  CHECK(parsed["count"] == 7);
  CHECK(parsed["delta"] == -3);
  CHECK(parsed["utf8"] == "caf\xc3\xa9");
}

TEST_CASE("levels below the logger's are not written") {
  const Capture capture;
  const Logger logger(Level::Warn, Format::Text, capture.descriptor());
  CHECK_FALSE(logger.enabled(Level::Info));
  CHECK(logger.enabled(Level::Error));
  logger.info("hidden");
  logger.error("shown", {{"key", "value"}});
  const std::string text = capture.read();
  CHECK(text.find("hidden") == std::string::npos);
  CHECK(text.find("level=error msg=shown key=value\n") != std::string::npos);
  CHECK(text.starts_with("ts="));
  CHECK(text.substr(3, 24).ends_with("Z"));
}

TEST_CASE("lines from many threads never interleave") {
  const Capture capture;
  const Logger logger(Level::Info, Format::Json, capture.descriptor());
  constexpr int kThreads = 4;
  constexpr int kLines = 50;  // 4 × 50 short lines stay below the pipe's capacity
  std::vector<std::thread> threads;
  threads.reserve(kThreads);
  for (int thread = 0; thread < kThreads; ++thread) {
    threads.emplace_back([&, thread] {
      for (int line = 0; line < kLines; ++line)
        logger.info("line", {{"thread", thread}, {"n", line}});
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::string text = capture.read();
  int count = 0;
  for (std::size_t start = 0, end; (end = text.find('\n', start)) != std::string::npos;
       start = end + 1) {
    CHECK(nlohmann::json::accept(text.substr(start, end - start)));
    ++count;
  }
  CHECK(count == kThreads * kLines);
}

TEST_CASE("levels and formats parse from their command-line names") {
  CHECK(edge::log::parse_level("debug") == Level::Debug);
  CHECK(edge::log::parse_level("warn") == Level::Warn);
  CHECK_FALSE(edge::log::parse_level("WARN").has_value());
  CHECK_FALSE(edge::log::parse_level("warning").has_value());
  CHECK(edge::log::parse_format("json") == Format::Json);
  CHECK_FALSE(edge::log::parse_format("yaml").has_value());
}
