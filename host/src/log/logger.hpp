// Structured logging: one line per event on a file descriptor (stderr by
// default), as logfmt-style text or as one JSON object per line.
//
// Thread-safety: every method may be called from any thread at once. A line
// is built in a per-thread buffer and handed to the kernel with one write(),
// so lines from different threads never interleave (for pipes up to
// PIPE_BUF bytes, for regular files and terminals in practice) and no lock is
// taken. Lifetime: the logger must outlive every thread that logs through it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace edge::log {

enum class Level : std::uint8_t { Debug, Info, Warn, Error };
enum class Format : std::uint8_t { Text, Json };

// "debug", "info", "warn", "error".
std::string_view to_string(Level level) noexcept;
// Parses a --log-level / --log-format value; nullopt when unknown.
std::optional<Level> parse_level(std::string_view text) noexcept;
std::optional<Format> parse_format(std::string_view text) noexcept;

// One key=value of a log line. Strings are borrowed: the field must not
// outlive what it points at (fields are built and consumed in one call).
// A string field whose value is empty is left out of the line, so that
// optional fields (the function of a request) cost no branch at the caller.
class Field {
 public:
  enum class Kind : std::uint8_t { String, Integer, Unsigned, Real, Boolean };

  Field(std::string_view key, std::string_view value) noexcept
      : key_(key), kind_(Kind::String), string_(value) {}
  Field(std::string_view key, const char* value) noexcept : Field(key, std::string_view(value)) {}
  Field(std::string_view key, const std::string& value) noexcept
      : Field(key, std::string_view(value)) {}
  Field(std::string_view key, bool value) noexcept
      : key_(key), kind_(Kind::Boolean), boolean_(value) {}
  Field(std::string_view key, double value) noexcept : key_(key), kind_(Kind::Real), real_(value) {}
  template <typename Integer>
  requires(std::is_integral_v<Integer> && !std::is_same_v<Integer, bool>)
      Field(std::string_view key, Integer value)
  noexcept : key_(key), kind_(Kind::Integer) {
    if constexpr (std::is_signed_v<Integer>) {
      kind_ = Kind::Integer;
      integer_ = value;
    } else {
      kind_ = Kind::Unsigned;
      unsigned_ = value;
    }
  }

  std::string_view key() const noexcept { return key_; }
  Kind kind() const noexcept { return kind_; }
  std::string_view string() const noexcept { return string_; }
  std::int64_t integer() const noexcept { return integer_; }
  std::uint64_t unsigned_integer() const noexcept { return unsigned_; }
  double real() const noexcept { return real_; }
  bool boolean() const noexcept { return boolean_; }

 private:
  std::string_view key_;
  Kind kind_;
  std::string_view string_;
  std::int64_t integer_ = 0;
  std::uint64_t unsigned_ = 0;
  double real_ = 0;
  bool boolean_ = false;
};

using Fields = std::initializer_list<Field>;

class Logger {
 public:
  // Writes to `descriptor` (not owned; stderr unless a test redirects it).
  explicit Logger(Level level = Level::Info, Format format = Format::Text, int descriptor = 2);

  Level level() const noexcept { return level_; }
  Format format() const noexcept { return format_; }
  // Whether a line at `level` would be written; lets callers skip building
  // fields that cost something.
  bool enabled(Level level) const noexcept { return level >= level_; }

  void write(Level level, std::string_view message, Fields fields = {}) const;
  // The same, with fields gathered at run time (a sink that forwards them).
  void write(Level level, std::string_view message, std::span<const Field> fields) const;
  void debug(std::string_view message, Fields fields = {}) const {
    write(Level::Debug, message, fields);
  }
  void info(std::string_view message, Fields fields = {}) const {
    write(Level::Info, message, fields);
  }
  void warn(std::string_view message, Fields fields = {}) const {
    write(Level::Warn, message, fields);
  }
  void error(std::string_view message, Fields fields = {}) const {
    write(Level::Error, message, fields);
  }

  // The line write() would produce, with `timestamp` in place of the clock
  // (for tests), without the trailing newline.
  std::string format_line(Level level, std::string_view timestamp, std::string_view message,
                          Fields fields) const;

 private:
  void append_line(std::string& line, Level level, std::string_view timestamp,
                   std::string_view message, std::span<const Field> fields) const;

  Level level_;
  Format format_;
  int descriptor_;
};

// The current time as RFC 3339 UTC with milliseconds: 2024-05-01T12:34:56.789Z.
std::string rfc3339_now();

}  // namespace edge::log
