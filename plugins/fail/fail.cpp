// fail — always fails. Lets tests and operators see how a plugin error
// travels to the caller (the host reports the message verbatim).
#include <edge/sdk.hpp>

#include <stdexcept>

namespace {

std::string fail_handler(std::string_view input, edge::sdk::Context& /*context*/) {
  std::string message = "requested failure";
  if (!input.empty()) message.append(": ").append(input);
  throw std::runtime_error(message);
}

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<fail_handler>(
                       "fail", "1.0.0",
                       "Always fails with 'requested failure' (plus the input, if any)")
                       .memory_mb(16)
                       .timeout_ms(1000))
