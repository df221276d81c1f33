#include "http/api.hpp"

#include "http/api_error.hpp"
#include "http/endpoints.hpp"
#include "http/router.hpp"

#include <edge/errors.hpp>

#include <cmath>
#include <memory>

namespace edge::http {
namespace {

// Compares in time that depends only on the expected token's length, so that
// response times do not reveal how much of a guess was right.
bool constant_time_equals(std::string_view given, std::string_view expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (std::size_t index = 0; index < expected.size(); ++index) {
    const char byte = index < given.size() ? given[index] : '\0';
    difference |= static_cast<unsigned char>(byte ^ expected[index]);
  }
  return difference == 0;
}

class Api {
 public:
  explicit Api(ApiContext context) : context_(std::move(context)) {
    add_function_endpoints(router_, context_);
    add_node_endpoints(router_, context_);
    add_status_endpoints(router_, context_);
  }

  HttpResponse handle(const HttpRequest& request) const {
    RouteMatch match;
    HttpResponse response = respond(request, match);
    response.log_function = std::move(match.function);
    if (response.log_node.empty()) response.log_node = std::move(match.node);
    return response;
  }

 private:
  void authorize(const HttpRequest& request) const {
    if (context_.token.empty() || request.path == "/healthz") return;
    constexpr std::string_view kScheme = "Bearer ";
    const std::string* header = request.header("authorization");
    if (header != nullptr && header->size() > kScheme.size() &&
        std::string_view(*header).substr(0, kScheme.size()) == kScheme &&
        constant_time_equals(std::string_view(*header).substr(kScheme.size()), context_.token)) {
      return;
    }
    throw ApiError(401, error_code::kUnauthorized,
                   header == nullptr ? "this server needs an Authorization: Bearer token"
                                     : "the Authorization header does not carry the right token",
                   {{"WWW-Authenticate", "Bearer"}});
  }

  // Every failure becomes the contract's JSON error; `match` keeps what the
  // router found for the access log.
  HttpResponse respond(const HttpRequest& request, RouteMatch& match) const {
    try {
      authorize(request);
      return router_.dispatch(request, match);
    } catch (const ApiError& error) {
      HttpResponse response = error_response(error.status(), error.code(), error.what());
      response.headers = error.headers();
      return response;
    } catch (const BusyError& error) {
      return error_response(429, error_code::kBusy, error.what());
    } catch (const TimeoutError& error) {
      return error_response(504, error_code::kTimeout, error.what());
    } catch (const MemoryLimitError& error) {
      return error_response(502, error_code::kMemoryLimitExceeded, error.what());
    } catch (const WorkerCrashError& error) {
      return error_response(502, error_code::kWorkerCrashed, error.what());
    } catch (const CircuitOpenError& error) {
      HttpResponse response = error_response(503, error_code::kCircuitOpen, error.what());
      response.headers.emplace_back(
          "Retry-After",
          std::to_string(static_cast<long long>(std::ceil(error.retry_after_seconds()))));
      return response;
    } catch (const EdgeExecutionError& error) {  // PluginError included
      return error_response(502, error_code::kPluginError, error.what());
    } catch (const DeploymentError& error) {
      return error_response(422, error_code::kUnschedulable, error.what());
    } catch (const std::invalid_argument& error) {
      // The cluster's word for an id it does not know (one that went away
      // between an endpoint's check and its call).
      return error_response(404, error_code::kNotFound, error.what());
    } catch (const std::exception& error) {
      context_.logger.error("unexpected error in the API", {{"request_id", request.request_id},
                                                            {"method", request.method},
                                                            {"path", request.path},
                                                            {"error", error.what()}});
      return error_response(500, error_code::kInternal,
                            "internal error (request id " + request.request_id + ")");
    }
  }

  ApiContext context_;
  Router router_;
};

}  // namespace

HttpHandler make_api_handler(ApiContext context) {
  auto api = std::make_shared<const Api>(std::move(context));
  return [api](const HttpRequest& request) { return api->handle(request); };
}

}  // namespace edge::http
