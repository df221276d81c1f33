// The debouncing behind PluginWatcher, apart from inotify so that it can be
// tested with a fake clock: a file is due once no event touched it for
// `settle` and its identity (existence, inode, size, times) stayed the same
// over that time; a file still changing is looked at again a period later.
// A file a writer still has open (written to, not yet closed) waits for
// `open_settle` instead: a copy that stalls for a moment is not reported
// half-written, and one whose writer never closes it is reported eventually.
#pragma once

#include "plugin/file_identity.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace edge {

class ChangeDebouncer {
 public:
  using Clock = std::chrono::steady_clock;
  // What a file looks like now; nullopt: it does not exist.
  using Snapshot = std::optional<FileIdentity>;

  // What an event says about writers of the file.
  enum class Writer : std::uint8_t {
    Unknown,  // nothing (created, moved, deleted): as before
    Open,     // written to: a writer has it open
    Closed,   // a writer closed it
  };

  ChangeDebouncer(Clock::duration settle, Clock::duration open_settle)
      : settle_(settle), open_settle_(std::max(settle, open_settle)) {}

  // An event touched `name`, which looks like `now_seen` at time `at`.
  void touched(const std::string& name, const Snapshot& now_seen, Clock::time_point at,
               Writer writer = Writer::Unknown) {
    Pending& pending = pending_[name];
    if (writer != Writer::Unknown) pending.open = writer == Writer::Open;
    pending.seen = now_seen;
    pending.due = at + (pending.open ? open_settle_ : settle_);
  }

  // The files that settled by `now`, with whether they exist; they are
  // forgotten. `observe(name)` returns a file's Snapshot now; a file that
  // changed since it was last seen is re-armed instead.
  template <class Observe>
  std::vector<std::pair<std::string, bool>> take_settled(Clock::time_point now, Observe&& observe) {
    std::vector<std::pair<std::string, bool>> settled;
    for (auto it = pending_.begin(); it != pending_.end();) {
      Pending& pending = it->second;
      if (pending.due > now) {
        ++it;
        continue;
      }
      const Snapshot seen = observe(it->first);
      if (!same(seen, pending.seen)) {
        pending.seen = seen;  // still being written: look again later
        pending.due = now + settle_;
        ++it;
        continue;
      }
      settled.emplace_back(it->first, seen.has_value());
      it = pending_.erase(it);
    }
    return settled;
  }

  // When the next file may be due; nullopt when nothing is pending.
  std::optional<Clock::time_point> next_due() const {
    std::optional<Clock::time_point> next;
    for (const auto& [name, pending] : pending_) {
      if (!next || pending.due < *next) next = pending.due;
    }
    return next;
  }

  bool empty() const noexcept { return pending_.empty(); }

 private:
  struct Pending {
    Snapshot seen;
    Clock::time_point due;
    bool open = false;  // written to and not closed since
  };
  static bool same(const Snapshot& a, const Snapshot& b) {
    return a.has_value() == b.has_value() && (!a || *a == *b);
  }

  Clock::duration settle_;
  Clock::duration open_settle_;
  std::map<std::string, Pending> pending_;
};

}  // namespace edge
