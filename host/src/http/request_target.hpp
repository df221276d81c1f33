// The request target ("/v1/functions/echo/invoke?node=gw-1") taken apart:
// percent-decoding, the path and the query parameters.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge::http {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`, as in query
// strings). Appends to `out`; false when an escape is malformed ("%", "%4",
// "%zz"), leaving `out` partly written.
bool percent_decode(std::string_view text, std::string& out, bool plus_is_space);

struct RequestTarget {
  std::string path;                          // decoded
  std::map<std::string, std::string> query;  // decoded; the first of repeated names wins
};

// Splits an origin-form target ("/path?query"). Returns nullopt and sets
// `error` when it is not one (absolute-form, "*", a bad escape).
std::optional<RequestTarget> parse_target(std::string_view target, std::string& error);

// The raw path (before '?') split at '/' into decoded segments, so that an
// escaped slash ("a%2Fb") stays inside its segment: "/v1/nodes/a%2Fb" is
// {"v1", "nodes", "a/b"}. A trailing slash gives a final empty segment.
// nullopt when an escape is malformed.
std::optional<std::vector<std::string>> path_segments(std::string_view target);

}  // namespace edge::http
