// A small blocking HTTP/1.1 client over POSIX sockets: one request per
// connection (Connection: close), plain http:// only, a deadline on every
// connect, write and read. Enough for a CLI talking to one edge-host; no
// Beast, so that edgectl builds in seconds and stays a small binary.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edgectl {

// Where the server is: parsed from --server / EDGE_SERVER.
struct ServerAddress {
  std::string host;       // a name, an IPv4 address, or an IPv6 one without brackets
  std::string port;       // "8080"; 80 when the URL has none
  std::string base_path;  // "" or "/prefix" (no trailing slash) for a server behind a proxy
  std::string url;        // as given, for messages
};

// Parses "http://HOST[:PORT][/PATH]". Throws std::invalid_argument saying
// what is wrong (https, no host, a bad port).
ServerAddress parse_server_url(std::string_view url);

// Percent-encodes a path segment or query value: everything but
// A-Z a-z 0-9 - . _ ~.
std::string url_encode(std::string_view text);

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;

  // The first header of that (lower-case) name, or nullptr.
  const std::string* header(std::string_view lower_case_name) const;
};

// The server could not be reached, or did not give a usable HTTP answer
// (refused, timed out, reset, not HTTP). what() names the URL and the cause.
class TransportError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpClient {
 public:
  HttpClient(ServerAddress server, std::chrono::milliseconds timeout)
      : server_(std::move(server)), timeout_(timeout) {}

  // Sends one request and reads the whole answer, within the timeout.
  // `target` is the path and query below the server's base path
  // ("/v1/nodes"). Throws TransportError.
  HttpResponse request(std::string_view method, std::string_view target,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       std::string_view body) const;

  const ServerAddress& server() const noexcept { return server_; }

 private:
  ServerAddress server_;
  std::chrono::milliseconds timeout_;
};

}  // namespace edgectl
