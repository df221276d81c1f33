// Serialises a response's status line and headers by hand into a reused
// buffer: the hot path writes it and the body with one gathered write, with
// no allocation once the buffer has grown.
#pragma once

#include "http/message.hpp"

#include <string>
#include <string_view>

namespace edge::http {

// "OK", "Not Found", ...; "Unknown" for a status without a phrase here.
std::string_view reason_phrase(int status) noexcept;

struct HeadOptions {
  std::string_view request_id;
  bool keep_alive = true;
  // An HTTP/1.0 client keeps the connection only when told so explicitly.
  bool http_1_0 = false;
};

// Replaces `out` with the head of `response`, ending in the blank line.
// Content-Length is the body's size. Header names and values from the
// response must not contain CR or LF (asserted; the API never produces them).
void write_response_head(std::string& out, const HttpResponse& response,
                         const HeadOptions& options);

}  // namespace edge::http
