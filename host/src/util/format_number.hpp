// Numbers in messages: "2", "0.05", "1e+06" rather than std::to_string's
// fixed six decimals ("2.000000").
#pragma once

#include <sstream>
#include <string>

namespace edge {

inline std::string format_number(double value) {
  std::ostringstream out;
  out << value;
  return out.str();
}

}  // namespace edge
