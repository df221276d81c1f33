#include "http_client.hpp"

#include "socket_connection.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <sstream>

namespace edgectl {
namespace {

// A response larger than this is not something edgectl shows: stop rather
// than fill memory (the largest real answer, /metrics of a big cluster, is
// a few megabytes).
constexpr std::size_t kMaxResponseBytes = std::size_t{256} << 20;
constexpr std::size_t kMaxHeaderBytes = 64UL * 1024;

std::string lower(std::string_view text) {
  std::string result(text);
  std::transform(result.begin(), result.end(), result.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return result;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Reads a response from a connection: the buffer holds what arrived and was
// not consumed yet.
class ResponseReader {
 public:
  ResponseReader(SocketConnection& connection, std::string url,
                 SocketConnection::Clock::time_point deadline)
      : connection_(connection), url_(std::move(url)), deadline_(deadline) {}

  HttpResponse read() {
    HttpResponse response;
    // 1xx answers (100 Continue) precede the real one; skip them.
    do {
      response = HttpResponse{};
      read_head(response);
    } while (response.status >= 100 && response.status < 200);
    read_body(response);
    return response;
  }

 private:
  [[noreturn]] void bad(const std::string& what) const {
    throw TransportError("bad HTTP response from " + url_ + ": " + what);
  }

  // Reads more into the buffer; false at end of stream.
  bool more() {
    if (buffer_.size() > kMaxResponseBytes) bad("larger than 256 MiB");
    return connection_.read_some(buffer_, deadline_);
  }

  // A line ending in CRLF (or LF), without it.
  std::string take_line() {
    std::size_t end;
    while ((end = buffer_.find('\n')) == std::string::npos) {
      if (buffer_.size() > kMaxHeaderBytes) bad("a header line longer than 64 KiB");
      if (!more()) bad("the connection closed in the middle of the headers");
    }
    std::string line = buffer_.substr(0, end);
    buffer_.erase(0, end + 1);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }

  void read_head(HttpResponse& response) {
    if (buffer_.empty() && !more()) bad("the server closed the connection without answering");
    const std::string status_line = take_line();
    // "HTTP/1.1 200 OK"
    if (!status_line.starts_with("HTTP/1.") || status_line.size() < 12 || status_line[8] != ' ') {
      bad("not HTTP (status line '" + status_line.substr(0, 40) + "')");
    }
    const std::string_view code = std::string_view(status_line).substr(9, 3);
    const auto [end, error] =
        std::from_chars(code.data(), code.data() + code.size(), response.status);
    if (error != std::errc() || end != code.data() + 3)
      bad("bad status code '" + std::string(code) + "'");
    response.reason = status_line.size() > 13 ? status_line.substr(13) : std::string();
    for (std::string line = take_line(); !line.empty(); line = take_line()) {
      const std::size_t colon = line.find(':');
      if (colon == std::string::npos) bad("header line without ':'");
      response.headers.emplace_back(lower(trim(std::string_view(line).substr(0, colon))),
                                    std::string(trim(std::string_view(line).substr(colon + 1))));
    }
  }

  void read_exactly(std::size_t size, std::string& out) {
    while (buffer_.size() < size) {
      if (!more()) bad("the connection closed before the end of the body");
    }
    out.append(buffer_, 0, size);
    buffer_.erase(0, size);
  }

  // Transfer-Encoding: chunked: hex size lines, data, CRLF; 0 ends it
  // (followed by optional trailers and an empty line).
  void read_chunked(std::string& out) {
    for (;;) {
      const std::string size_line = take_line();
      const std::string_view digits =
          trim(std::string_view(size_line).substr(0, size_line.find(';')));
      std::size_t size = 0;
      const auto [end, error] =
          std::from_chars(digits.data(), digits.data() + digits.size(), size, 16);
      if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
        bad("bad chunk size '" + std::string(digits) + "'");
      }
      if (size == 0) break;
      if (out.size() + size > kMaxResponseBytes) bad("larger than 256 MiB");
      read_exactly(size, out);
      if (!take_line().empty()) bad("no CRLF after a chunk");
    }
    while (!take_line().empty()) {
    }
  }

  void read_body(HttpResponse& response) {
    if (response.status == 204 || response.status == 304) return;
    const std::string* encoding = response.header("transfer-encoding");
    if (encoding != nullptr && lower(*encoding).find("chunked") != std::string::npos) {
      read_chunked(response.body);
      return;
    }
    if (const std::string* length = response.header("content-length")) {
      std::size_t size = 0;
      const auto [end, error] =
          std::from_chars(length->data(), length->data() + length->size(), size);
      if (error != std::errc() || end != length->data() + length->size()) {
        bad("bad Content-Length '" + *length + "'");
      }
      if (size > kMaxResponseBytes) bad("larger than 256 MiB");
      read_exactly(size, response.body);
      return;
    }
    // Neither: the body runs to the end of the connection.
    while (more()) {
    }
    response.body = std::move(buffer_);
  }

  SocketConnection& connection_;
  std::string url_;
  SocketConnection::Clock::time_point deadline_;
  std::string buffer_;
};

}  // namespace

ServerAddress parse_server_url(std::string_view url) {
  ServerAddress address;
  address.url = std::string(url);
  constexpr std::string_view kScheme = "http://";
  if (url.starts_with("https://")) {
    throw std::invalid_argument(
        "server URL '" + std::string(url) +
        "': https is not supported (edge-host serves plain HTTP; use an SSH "
        "tunnel or a local proxy)");
  }
  if (!url.starts_with(kScheme)) {
    throw std::invalid_argument("server URL '" + std::string(url) + "' must start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  const std::size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash);
    while (path.ends_with('/')) path.remove_suffix(1);
    address.base_path = std::string(path);
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [::1]:8080
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      throw std::invalid_argument("server URL '" + std::string(url) +
                                  "': no ']' after the IPv6 address");
    }
    address.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (after.starts_with(':')) {
      port = after.substr(1);
    } else if (!after.empty()) {
      throw std::invalid_argument("server URL '" + std::string(url) +
                                  "': unexpected text after ']'");
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    address.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (address.host.empty())
    throw std::invalid_argument("server URL '" + std::string(url) + "' has no host");
  if (port.empty()) {
    address.port = "80";
  } else {
    unsigned number = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (error != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      throw std::invalid_argument("server URL '" + std::string(url) + "': bad port '" +
                                  std::string(port) + "' (expected 1-65535)");
    }
    address.port = std::string(port);
  }
  return address;
}

std::string url_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (std::isalnum(byte) || c == '-' || c == '.' || c == '_' || c == '~') {
      encoded += c;
    } else {
      encoded += '%';
      encoded += kHex[byte >> 4];
      encoded += kHex[byte & 0xF];
    }
  }
  return encoded;
}

const std::string* HttpResponse::header(std::string_view lower_case_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_case_name) return &value;
  }
  return nullptr;
}

namespace {

std::string request_head(std::string_view method, std::string_view target,
                         const ServerAddress& server,
                         const std::vector<std::pair<std::string, std::string>>& headers,
                         std::size_t body_size) {
  const bool ipv6 = server.host.find(':') != std::string::npos;
  std::string head;
  head.append(method).append(" ").append(server.base_path).append(target).append(" HTTP/1.1\r\n");
  head.append("Host: ")
      .append(ipv6 ? "[" + server.host + "]" : server.host)
      .append(":")
      .append(server.port)
      .append("\r\n");
  head.append("User-Agent: edgectl/" EDGECTL_VERSION "\r\n");
  head.append("Connection: close\r\n");
  head.append("Content-Length: ").append(std::to_string(body_size)).append("\r\n");
  for (const auto& [name, value] : headers) {
    head.append(name).append(": ").append(value).append("\r\n");
  }
  head.append("\r\n");
  return head;
}

HttpResponse exchange(SocketConnection& connection, const std::string& head, std::string_view body,
                      const std::string& url, SocketConnection::Clock::time_point deadline) {
  try {
    connection.write_all(head, deadline);
    connection.write_all(body, deadline);
  } catch (const TransportError&) {
    // A server may answer and close before taking the whole body (413 for
    // a body over its limit): its answer says more than our EPIPE.
    try {
      return ResponseReader(connection, url, deadline).read();
    } catch (const TransportError&) {
    }
    throw;
  }
  return ResponseReader(connection, url, deadline).read();
}

}  // namespace

HttpResponse HttpClient::request(std::string_view method, std::string_view target,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view body) const {
  const auto deadline = SocketConnection::Clock::now() + timeout_;
  try {
    SocketConnection connection =
        SocketConnection::connect(server_.host, server_.port, server_.url, deadline);
    return exchange(connection, request_head(method, target, server_, headers, body.size()), body,
                    server_.url, deadline);
  } catch (const TransportError& error) {
    if (SocketConnection::Clock::now() < deadline) throw;
    // Say which limit was hit, and how to raise it (a long function call).
    const auto seconds = std::chrono::duration<double>(timeout_).count();
    std::ostringstream message;
    message << error.what() << " (gave up after " << seconds << " s; see --request-timeout)";
    throw TransportError(message.str());
  }
}

}  // namespace edgectl
