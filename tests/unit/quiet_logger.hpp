// A structured logger whose lines go nowhere, for tests that judge what the
// code under test did, not what it logged.
#pragma once

#include "log/logger.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace edge::test {

struct QuietLogger {
  QuietLogger() = default;
  ~QuietLogger() { ::close(descriptor); }
  QuietLogger(const QuietLogger&) = delete;
  QuietLogger& operator=(const QuietLogger&) = delete;

  int descriptor = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
  log::Logger logger{log::Level::Error, log::Format::Text, descriptor};
};

}  // namespace edge::test
