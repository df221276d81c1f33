#include "nats/nats_status.hpp"

#include <string>

#include "nats/nats_error.hpp"

namespace edge::nats {

std::string describe_status(natsStatus status) {
  std::string description = natsStatus_GetText(status);
  natsStatus last_status = NATS_OK;
  const char* last_error = nats_GetLastError(&last_status);
  // The thread's last error may belong to an earlier call: only a text
  // recorded for this same status explains this failure.
  if (last_error != nullptr && *last_error != '\0' && last_status == status &&
      description != last_error) {
    description += " (";
    description += last_error;
    description += ")";
  }
  return description;
}

void throw_status(natsStatus status, std::string_view what) {
  std::string message(what);
  message += ": ";
  message += describe_status(status);
  switch (status) {
    case NATS_TIMEOUT:
      throw NatsTimeoutError(message);
    case NATS_NO_RESPONDERS:
      throw NatsNoRespondersError(message);
    default:
      throw NatsError(message);
  }
}

}  // namespace edge::nats
