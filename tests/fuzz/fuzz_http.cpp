// The HTTP request path in process, without sockets: the bytes go through a
// Beast request_parser configured as http/connection.cpp configures it (same
// header and body limits, same incremental put() loop), and each complete
// request is turned into an HttpRequest as Connection::handle_request does
// (lower-cased header names, X-Request-Id, parse_target) and dispatched
// through make_api_handler over a real EdgeCluster: one node, gw-1, running
// the echo plugin (copied into a private plugin directory, so that PUT can
// name no other plugin). Pipelined keep-alive requests are served in order.
// A request that names an Authorization header goes to an API with a token.
//
// Fresh cluster per input, so that inputs do not depend on each other. A 500
// (the `internal` error code), an exception out of the handler, or a response
// header with CR or LF is a bug: abort.
//
// Kept in step with connection.cpp by hand: if the server's parsing changes,
// change it here.
#include "http/api.hpp"
#include "http/beast.hpp"
#include "http/error_response.hpp"
#include "http/request_id.hpp"
#include "http/request_target.hpp"
#include "http/response_head.hpp"
#include "http/server.hpp"
#include "log/logger.hpp"

#include <edge/cluster.hpp>
#include <edge/models.hpp>

#include <boost/beast/http/error.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace {

namespace fs = std::filesystem;
namespace bhttp = boost::beast::http;
using namespace edge::http;

constexpr int kMaxRequestsPerInput = 16;

struct Fixture {
  fs::path directory;
  fs::path plugins;
  edge::log::Logger logger{edge::log::Level::Error};
  ServerOptions options;  // the server's defaults: header and body limits
};

Fixture& fixture() {
  static Fixture* instance = [] {
    auto* made = new Fixture;
    std::string pattern = (fs::temp_directory_path() / "edge-fuzz-http-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("fuzz_http: mkdtemp");
      std::abort();
    }
    made->directory = pattern;
    made->plugins = made->directory / "plugins";
    fs::create_directory(made->plugins);
    fs::copy_file(fs::path(EDGE_FUZZ_PLUGIN_DIR) / "echo.so", made->plugins / "echo.so");
    fs::permissions(made->plugins / "echo.so", fs::perms(0644));
    return made;
  }();
  return *instance;
}

[[noreturn]] void bug(const std::string& what) {
  std::fprintf(stderr, "fuzz_http: %s\n", what.c_str());
  std::abort();
}

void check_head(const HttpResponse& response, const std::string& request_id, bool keep_alive,
                bool http_1_0) {
  if (response.status == 500) {
    bug("500 internal: " + response.body);
  }
  for (const auto& [name, value] : response.headers) {
    if ((name + value).find_first_of("\r\n") != std::string::npos) {
      bug("response header with CR or LF: " + name);
    }
  }
  std::string head;
  write_response_head(head, response, {request_id, keep_alive, http_1_0});
}

char to_lower_ascii(char character) {
  return character >= 'A' && character <= 'Z' ? static_cast<char>(character - 'A' + 'a')
                                              : character;
}

// Connection::on_read_error and reject(): the answer to a request that did not parse.
void reject(const beast::error_code& error) {
  HttpResponse response;
  if (error == bhttp::error::body_limit) {
    response = error_response(413, error_code::kPayloadTooLarge, "request body too large");
  } else if (error == bhttp::error::header_limit) {
    response = error_response(400, error_code::kBadRequest, "request header too large");
  } else {
    response =
        error_response(400, error_code::kBadRequest, "malformed HTTP request: " + error.message());
  }
  check_head(response, generate_request_id(), false, false);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture();
  std::atexit([] {
    std::error_code ignored;
    fs::remove_all(fixture().directory, ignored);
  });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& fx = fixture();
  edge::EdgeCluster cluster;
  cluster.register_node(edge::EdgeNode("gw-1"));
  edge::EdgeFunction echo("echo");
  echo.plugin = fx.plugins / "echo.so";
  cluster.deploy_to_all(echo);
  const HttpHandler open_api = make_api_handler(ApiContext{cluster, fx.plugins, "", fx.logger});
  const HttpHandler token_api =
      make_api_handler(ApiContext{cluster, fx.plugins, "fuzz-token", fx.logger});

  beast::flat_buffer buffer;
  {
    auto writable = buffer.prepare(size);
    std::copy_n(data, size, static_cast<std::uint8_t*>(writable.data()));
    buffer.commit(size);
  }
  HttpRequest request;
  for (int served = 0; served < kMaxRequestsPerInput && buffer.size() != 0; ++served) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(fx.options.header_limit_bytes, UINT32_MAX)));
    parser.body_limit(fx.options.body_limit_bytes);
    beast::error_code error;
    // Connection::parse_buffered.
    while (buffer.size() != 0 && !parser.is_done()) {
      const std::size_t used = parser.put(buffer.data(), error);
      buffer.consume(used);
      if (error == bhttp::error::need_more) {
        error = {};
        break;
      }
      if (error || used == 0) break;
    }
    if (error) {
      reject(error);
      return 0;
    }
    // The input ends mid-request: the server would wait for more bytes.
    if (!parser.is_done()) return 0;

    // Connection::handle_request.
    auto& message = parser.get();
    request.method.assign(message.method_string().data(), message.method_string().size());
    request.target.assign(message.target().data(), message.target().size());
    request.path.clear();
    request.query.clear();
    request.headers.clear();
    for (const auto& field : message) {
      std::string name(field.name_string().data(), field.name_string().size());
      std::transform(name.begin(), name.end(), name.begin(), to_lower_ascii);
      request.headers.emplace(std::move(name),
                              std::string(field.value().data(), field.value().size()));
    }
    request.body = std::move(message.body());
    const std::string* client_id = request.header("x-request-id");
    request.request_id = client_id != nullptr && is_acceptable_request_id(*client_id)
                             ? *client_id
                             : generate_request_id();
    const bool http_1_0 = message.version() == 10;
    std::string target_error;
    std::optional<RequestTarget> target = parse_target(request.target, target_error);
    if (!target) {
      check_head(error_response(400, error_code::kBadRequest, target_error), request.request_id,
                 false, http_1_0);
      return 0;
    }
    request.path = std::move(target->path);
    request.query = std::move(target->query);

    const HttpHandler& handler = request.header("authorization") != nullptr ? token_api : open_api;
    HttpResponse response;
    try {
      response = handler(request);
    } catch (const std::exception& thrown) {
      bug(std::string("the handler threw: ") + thrown.what());
    }
    const bool keep_alive = message.keep_alive();
    check_head(response, request.request_id, keep_alive, http_1_0);
    if (!keep_alive) break;
  }
  return 0;
}
