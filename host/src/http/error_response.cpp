#include "http/error_response.hpp"

#include <nlohmann/json.hpp>

namespace edge::http {

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  HttpResponse response;
  response.status = status;
  // `replace`: a message quoting client input may hold invalid UTF-8, which
  // must not turn the error into an exception.
  response.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace edge::http
