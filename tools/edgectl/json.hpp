// JSON as edgectl reads and prints it. Ordered, so that --json shows the
// keys in the order the server sent them ("as-is"), and top's own objects
// keep the order they are written in.
#pragma once

#include <nlohmann/json.hpp>

namespace edgectl {

using Json = nlohmann::ordered_json;

}  // namespace edgectl
