// The log sink a node host's fleet units write to (edge-host passes its
// structured logger; tests record or drop). A message plus fields: the node,
// the function, the sha256 the line is about.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge::fleet {

using LogFields = std::vector<std::pair<std::string, std::string>>;
// level: "debug", "info", "warn" or "error". Called from the units' own
// threads (heartbeats, reconcile, NATS delivery), possibly at once: the sink
// must be thread-safe.
using LogSink =
    std::function<void(std::string_view level, std::string_view message, LogFields fields)>;

// Writes to `sink` unless it is empty; a sink that throws loses the line, not
// the caller's thread.
inline void write_log(const LogSink& sink, std::string_view level, std::string_view message,
                      LogFields fields = {}) noexcept {
  if (!sink) return;
  try {
    sink(level, message, std::move(fields));
  } catch (...) {  // NOLINT(bugprone-empty-catch): a log line is not worth a thread
  }
}

}  // namespace edge::fleet
