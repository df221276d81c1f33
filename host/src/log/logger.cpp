#include "log/logger.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <ctime>

namespace edge::log {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

void append_hex_byte(std::string& out, unsigned char byte) {
  out += kHexDigits[byte >> 4];
  out += kHexDigits[byte & 0xF];
}

template <typename Number>
void append_number(std::string& out, Number value) {
  char digits[32];
  const auto result = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, result.ptr);
}

// "2024-05-01T12:34:56.789Z": 24 characters.
constexpr std::size_t kTimestampLength = 24;
using Timestamp = std::array<char, kTimestampLength>;

Timestamp rfc3339(const timespec& now) {
  std::tm utc{};
  ::gmtime_r(&now.tv_sec, &utc);
  Timestamp text{};
  std::size_t position = 0;
  const auto put = [&](long value, int width, char separator) {
    for (int index = width - 1; index >= 0; --index) {
      text[position + static_cast<std::size_t>(index)] = static_cast<char>('0' + value % 10);
      value /= 10;
    }
    position += static_cast<std::size_t>(width);
    text[position++] = separator;
  };
  put(utc.tm_year + 1900L, 4, '-');
  put(utc.tm_mon + 1L, 2, '-');
  put(utc.tm_mday, 2, 'T');
  put(utc.tm_hour, 2, ':');
  put(utc.tm_min, 2, ':');
  put(utc.tm_sec, 2, '.');
  put(now.tv_nsec / 1'000'000, 3, 'Z');
  return text;
}

Timestamp rfc3339_clock() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return rfc3339(now);
}

// The length of the valid UTF-8 sequence starting at text[index], or 0 if
// it is not one (overlong forms, surrogates and truncated sequences included).
std::size_t utf8_sequence_length(std::string_view text, std::size_t index) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(text[at]); };
  const unsigned char lead = byte(index);
  std::size_t length = 0;
  unsigned char min_second = 0x80;
  unsigned char max_second = 0xBF;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) min_second = 0xA0;
    if (lead == 0xED) max_second = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) min_second = 0x90;
    if (lead == 0xF4) max_second = 0x8F;
  } else {
    return 0;
  }
  if (index + length > text.size()) return 0;
  if (byte(index + 1) < min_second || byte(index + 1) > max_second) return 0;
  for (std::size_t next = index + 2; next < index + length; ++next) {
    if (byte(next) < 0x80 || byte(next) > 0xBF) return 0;
  }
  return length;
}

// A JSON string literal. Bytes that are not valid UTF-8 (a decoded URL path
// may hold any byte) become U+FFFD so that every line stays valid JSON.
void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (std::size_t index = 0; index < text.size();) {
    const auto character = static_cast<unsigned char>(text[index]);
    if (character >= 0x80) {
      const std::size_t length = utf8_sequence_length(text, index);
      if (length == 0) {
        out += "\\ufffd";
        ++index;
      } else {
        out.append(text.substr(index, length));
        index += length;
      }
      continue;
    }
    switch (character) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (character < 0x20 || character == 0x7F) {
          out += "\\u00";
          append_hex_byte(out, character);
        } else {
          out += static_cast<char>(character);
        }
    }
    ++index;
  }
  out += '"';
}

// A logfmt value: bare when it is plain printable ASCII without spaces,
// quotes or '=', else quoted with \" \\ \n \t and \xNN escapes.
void append_text_value(std::string& out, std::string_view text) {
  bool bare = !text.empty();
  for (const char character : text) {
    const auto byte = static_cast<unsigned char>(character);
    if (byte <= 0x20 || byte >= 0x7F || character == '"' || character == '=' || character == '\\') {
      bare = false;
      break;
    }
  }
  if (bare) {
    out += text;
    return;
  }
  out += '"';
  for (const char character : text) {
    const auto byte = static_cast<unsigned char>(character);
    if (character == '"' || character == '\\') {
      out += '\\';
      out += character;
    } else if (character == '\n') {
      out += "\\n";
    } else if (character == '\t') {
      out += "\\t";
    } else if (byte < 0x20 || byte == 0x7F) {
      out += "\\x";
      append_hex_byte(out, byte);
    } else {
      out += character;  // UTF-8 passes through for a human reader
    }
  }
  out += '"';
}

void append_field_value(std::string& out, const Field& field, Format format) {
  switch (field.kind()) {
    case Field::Kind::String:
      if (format == Format::Json) {
        append_json_string(out, field.string());
      } else {
        append_text_value(out, field.string());
      }
      return;
    case Field::Kind::Integer:
      append_number(out, field.integer());
      return;
    case Field::Kind::Unsigned:
      append_number(out, field.unsigned_integer());
      return;
    case Field::Kind::Real:
      if (std::isfinite(field.real())) {
        append_number(out, field.real());
      } else {
        out += format == Format::Json ? "null" : "nan";
      }
      return;
    case Field::Kind::Boolean:
      out += field.boolean() ? "true" : "false";
      return;
  }
}

bool is_omitted(const Field& field) {
  return field.kind() == Field::Kind::String && field.string().empty();
}

void write_all(int descriptor, std::string_view line) {
  while (!line.empty()) {
    const ssize_t written = ::write(descriptor, line.data(), line.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return;  // nowhere left to report a failing log
    line.remove_prefix(static_cast<std::size_t>(written));
  }
}

}  // namespace

std::string_view to_string(Level level) noexcept {
  switch (level) {
    case Level::Debug:
      return "debug";
    case Level::Info:
      return "info";
    case Level::Warn:
      return "warn";
    case Level::Error:
      return "error";
  }
  return "unknown";
}

std::optional<Level> parse_level(std::string_view text) noexcept {
  for (const Level level : {Level::Debug, Level::Info, Level::Warn, Level::Error}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

std::optional<Format> parse_format(std::string_view text) noexcept {
  if (text == "text") return Format::Text;
  if (text == "json") return Format::Json;
  return std::nullopt;
}

Logger::Logger(Level level, Format format, int descriptor)
    : level_(level), format_(format), descriptor_(descriptor) {}

void Logger::append_line(std::string& line, Level level, std::string_view timestamp,
                         std::string_view message, std::span<const Field> fields) const {
  if (format_ == Format::Json) {
    line += "{\"ts\":\"";
    line += timestamp;
    line += "\",\"level\":\"";
    line += to_string(level);
    line += "\",\"msg\":";
    append_json_string(line, message);
    for (const Field& field : fields) {
      if (is_omitted(field)) continue;
      line += ',';
      append_json_string(line, field.key());
      line += ':';
      append_field_value(line, field, format_);
    }
    line += '}';
    return;
  }
  line += "ts=";
  line += timestamp;
  line += " level=";
  line += to_string(level);
  line += " msg=";
  append_text_value(line, message);
  for (const Field& field : fields) {
    if (is_omitted(field)) continue;
    line += ' ';
    line += field.key();
    line += '=';
    append_field_value(line, field, format_);
  }
}

std::string Logger::format_line(Level level, std::string_view timestamp, std::string_view message,
                                Fields fields) const {
  std::string line;
  append_line(line, level, timestamp, message, {fields.begin(), fields.size()});
  return line;
}

void Logger::write(Level level, std::string_view message, Fields fields) const {
  write(level, message, std::span<const Field>(fields.begin(), fields.size()));
}

void Logger::write(Level level, std::string_view message, std::span<const Field> fields) const {
  if (!enabled(level)) return;
  // Reused by every line this thread writes: no allocation once it has grown.
  thread_local std::string line;
  line.clear();
  const Timestamp timestamp = rfc3339_clock();
  append_line(line, level, std::string_view(timestamp.data(), timestamp.size()), message, fields);
  line += '\n';
  write_all(descriptor_, line);
}

std::string rfc3339_now() {
  const Timestamp timestamp = rfc3339_clock();
  return std::string(timestamp.data(), timestamp.size());
}

}  // namespace edge::log
