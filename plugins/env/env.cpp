// env — returns the value of the function's environment variable named by
// the input (empty if unset). Shows that each function version carries its
// own environment, set by the deployment, not by the host process.
#include <edge/sdk.hpp>

#include <string>

namespace {

std::string env_handler(std::string_view input, edge::sdk::Context& context) {
  // get_env wants a NUL-terminated name; the input is not.
  const std::string name(input);
  return std::string(context.env(name.c_str()).value_or(std::string_view()));
}

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<env_handler>(
                       "env", "1.0.0",
                       "Returns the function's environment variable named by the input")
                       .memory_mb(16)
                       .timeout_ms(1000))
