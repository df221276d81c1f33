// Small formatting helpers shared by the commands: numbers without noise,
// JSON values as text, lists joined.
#pragma once

#include "json.hpp"

#include <string>
#include <vector>

namespace edgectl {

// 2, 0.5, 12.3 (at most `decimals` decimals, no trailing zeros).
std::string format_number(double value, int decimals = 1);
// A JSON value as a table cell: strings bare, numbers via format_number,
// arrays joined with ", ", null or missing as "-".
std::string cell(const Json& value, int decimals = 1);
// The member `key` of an object as a cell ("-" when missing).
std::string cell(const Json& object, const char* key, int decimals = 1);
std::string join(const std::vector<std::string>& items, const std::string& separator = ", ");
// "3 s", "2 min", "1 h 5 min": how long ago a heartbeat was.
std::string format_age(double seconds);

}  // namespace edgectl
