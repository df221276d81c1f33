// Small helpers for the messages edge-host prints.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace edge::app {

// "1 node", "3 nodes".
inline std::string count_of(std::size_t count, std::string_view noun) {
  return std::to_string(count) + " " + std::string(noun) + (count == 1 ? "" : "s");
}

}  // namespace edge::app
