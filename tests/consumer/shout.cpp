// A plugin written outside the tree with the installed SDK.
#include <edge/sdk.hpp>

#include <cctype>

namespace {

std::string shout(std::string_view input, edge::sdk::Context&) {
  std::string loud(input);
  for (char& c : loud) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return loud + "!";
}

}  // namespace

EDGE_EXPORT_FUNCTION(shout, "shout", "1.0.0", "Upper-cases its input")
