// The API's one error shape, {"error": {"code": "...", "message": "..."}},
// used by the server for HTTP-level failures and by the API for the rest.
#pragma once

#include "http/message.hpp"

#include <string_view>

namespace edge::http {

// The codes of docs/http-api.md's error table.
namespace error_code {
inline constexpr std::string_view kBadRequest = "bad_request";
inline constexpr std::string_view kUnauthorized = "unauthorized";
inline constexpr std::string_view kNotFound = "not_found";
inline constexpr std::string_view kMethodNotAllowed = "method_not_allowed";
inline constexpr std::string_view kConflict = "conflict";
inline constexpr std::string_view kPayloadTooLarge = "payload_too_large";
inline constexpr std::string_view kUnschedulable = "unschedulable";
inline constexpr std::string_view kBusy = "busy";
inline constexpr std::string_view kInternal = "internal";
inline constexpr std::string_view kPluginError = "plugin_error";
inline constexpr std::string_view kTimeout = "timeout";
inline constexpr std::string_view kWorkerCrashed = "worker_crashed";
inline constexpr std::string_view kMemoryLimitExceeded = "memory_limit_exceeded";
inline constexpr std::string_view kCircuitOpen = "circuit_open";
}  // namespace error_code

HttpResponse error_response(int status, std::string_view code, std::string_view message);

}  // namespace edge::http
