#include "http/request_target.hpp"

namespace edge::http {
namespace {

int hex_value(char character) noexcept {
  if (character >= '0' && character <= '9') return character - '0';
  if (character >= 'a' && character <= 'f') return character - 'a' + 10;
  if (character >= 'A' && character <= 'F') return character - 'A' + 10;
  return -1;
}

std::string_view raw_path_of(std::string_view target) { return target.substr(0, target.find('?')); }

}  // namespace

bool percent_decode(std::string_view text, std::string& out, bool plus_is_space) {
  out.reserve(out.size() + text.size());
  for (std::size_t index = 0; index < text.size(); ++index) {
    const char character = text[index];
    if (character == '%') {
      if (index + 2 >= text.size()) return false;  // needs two hex digits
      const int high = hex_value(text[index + 1]);
      const int low = hex_value(text[index + 2]);
      if (high < 0 || low < 0) return false;
      out += static_cast<char>(high * 16 + low);
      index += 2;
    } else if (character == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += character;
    }
  }
  return true;
}

std::optional<RequestTarget> parse_target(std::string_view target, std::string& error) {
  if (target.empty() || target.front() != '/') {
    error = "the request target must be a path starting with '/'";
    return std::nullopt;
  }
  RequestTarget parsed;
  const std::size_t question = target.find('?');
  if (!percent_decode(target.substr(0, question), parsed.path, false)) {
    error = "malformed percent-escape in the path";
    return std::nullopt;
  }
  if (question == std::string_view::npos) return parsed;

  std::string_view query = target.substr(question + 1);
  while (!query.empty()) {
    const std::size_t ampersand = query.find('&');
    const std::string_view pair = query.substr(0, ampersand);
    query = ampersand == std::string_view::npos ? std::string_view() : query.substr(ampersand + 1);
    if (pair.empty()) continue;  // "a=1&&b=2"
    const std::size_t equals = pair.find('=');
    std::string name;
    std::string value;
    if (!percent_decode(pair.substr(0, equals), name, true) ||
        (equals != std::string_view::npos &&
         !percent_decode(pair.substr(equals + 1), value, true))) {
      error = "malformed percent-escape in the query";
      return std::nullopt;
    }
    parsed.query.emplace(std::move(name), std::move(value));
  }
  return parsed;
}

std::optional<std::vector<std::string>> path_segments(std::string_view target) {
  std::string_view path = raw_path_of(target);
  std::vector<std::string> segments;
  if (path.empty() || path.front() != '/') return segments;
  path.remove_prefix(1);
  for (;;) {
    const std::size_t slash = path.find('/');
    std::string segment;
    if (!percent_decode(path.substr(0, slash), segment, false)) return std::nullopt;
    segments.push_back(std::move(segment));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

}  // namespace edge::http
