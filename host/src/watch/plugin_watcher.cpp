#include <edge/plugin_watcher.hpp>

#include "plugin/file_identity.hpp"
#include "util/file_descriptor.hpp"
#include "watch/change_debouncer.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>

namespace edge {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint32_t kWatchMask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                                     IN_CREATE | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF |
                                     IN_ONLYDIR;
// How often a watcher whose directory went away tries to watch it again.
constexpr std::chrono::seconds kRewatchPeriod{1};

bool is_plugin_name(std::string_view name) {
  return name.size() > 3 && name.substr(name.size() - 3) == ".so" && name.front() != '.';
}

// The plugin an event is about: the file itself, or the plugin whose
// detached signature (<plugin>.sig) changed, since a signature arriving
// after its plugin decides whether that plugin may now be loaded.
std::optional<std::string> plugin_named_by(std::string_view name) {
  if (is_plugin_name(name)) return std::string(name);
  constexpr std::string_view kSignature = ".sig";
  if (name.ends_with(kSignature)) {
    const std::string_view plugin = name.substr(0, name.size() - kSignature.size());
    if (is_plugin_name(plugin)) return std::string(plugin);
  }
  return std::nullopt;
}

}  // namespace

std::string_view to_string(PluginFileChange change) noexcept {
  return change == PluginFileChange::Written ? "written" : "removed";
}

struct PluginWatcher::State {
  State(std::filesystem::path dir, Callback cb, PluginWatcherOptions opts)
      : directory(std::move(dir)),
        callback(std::move(cb)),
        options(opts),
        debouncer(opts.settle, opts.open_settle) {}

  const std::filesystem::path directory;
  const Callback callback;
  const PluginWatcherOptions options;

  std::mutex control_mutex;  // serialises start() and stop()
  std::thread thread;        // guarded by control_mutex
  FileDescriptor inotify;    // set by start(), used by the thread, closed after it ends
  FileDescriptor stop_event;

  // Used only by the watcher thread.
  int watch = -1;  // -1: the directory is not watched now
  Clock::time_point next_rewatch;
  ChangeDebouncer debouncer;

  void touch(const std::string& name,
             ChangeDebouncer::Writer writer = ChangeDebouncer::Writer::Unknown) {
    debouncer.touched(name, identity_of(directory / name), Clock::now(), writer);
  }
  // Every plugin file now in the directory, as if each had just changed.
  void touch_all() {
    std::error_code error;
    for (std::filesystem::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
      const std::string name = it->path().filename().string();
      if (is_plugin_name(name)) touch(name);
    }
  }

  void read_events() {
    alignas(inotify_event) std::array<char, std::size_t{64} * 1024> buffer{};
    for (;;) {
      const ssize_t length = ::read(inotify.get(), buffer.data(), buffer.size());
      if (length <= 0) {
        if (length < 0 && errno == EINTR) continue;
        return;  // EAGAIN: drained
      }
      for (std::size_t offset = 0; offset < static_cast<std::size_t>(length);) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer.data() + offset);
        offset += sizeof(inotify_event) + event->len;
        if ((event->mask & IN_Q_OVERFLOW) != 0) {
          touch_all();  // events were lost: look at everything
        } else if ((event->mask & (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF)) != 0) {
          if (event->wd != watch) continue;  // about a watch given up earlier
          // A moved directory stays watched under its new name: let it go.
          if ((event->mask & IN_MOVE_SELF) != 0) ::inotify_rm_watch(inotify.get(), watch);
          watch = -1;
          next_rewatch = Clock::now() + kRewatchPeriod;
        } else if (event->len > 0 && (event->mask & IN_ISDIR) == 0 &&
                   plugin_named_by(event->name)) {
          using Writer = ChangeDebouncer::Writer;
          // A file moved in or away has no writer here; a created one may
          // be written next (its IN_MODIFY says so).
          constexpr std::uint32_t kNoWriter =
              IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE;
          touch(*plugin_named_by(event->name), (event->mask & IN_MODIFY) != 0   ? Writer::Open
                                               : (event->mask & kNoWriter) != 0 ? Writer::Closed
                                                                                : Writer::Unknown);
        }
      }
    }
  }

  void try_rewatch() {
    next_rewatch = Clock::now() + kRewatchPeriod;
    watch = ::inotify_add_watch(inotify.get(), directory.c_str(), kWatchMask);
    if (watch >= 0) touch_all();  // whatever happened while unwatched
  }

  void report_settled() {
    const auto settled = debouncer.take_settled(
        Clock::now(), [&](const std::string& name) { return identity_of(directory / name); });
    for (const auto& [name, exists] : settled) {
      try {
        callback(directory / name, exists ? PluginFileChange::Written : PluginFileChange::Removed);
      } catch (...) {
        // Documented: the callback reports its own errors; keep watching.
      }
    }
  }

  int poll_timeout_ms() const {
    std::optional<Clock::time_point> wake = debouncer.next_due();
    if (watch < 0 && (!wake || next_rewatch < *wake)) wake = next_rewatch;
    if (!wake) return -1;
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(*wake - Clock::now());
    return static_cast<int>(std::clamp<std::int64_t>(wait.count(), 0, 60'000));
  }

  void run() {
    for (;;) {
      std::array<pollfd, 2> descriptors{
          {{inotify.get(), POLLIN, 0}, {stop_event.get(), POLLIN, 0}}};
      const int ready = ::poll(descriptors.data(), descriptors.size(), poll_timeout_ms());
      if (ready < 0) {
        // EINTR, or ENOMEM (the only other failure with valid descriptors):
        // transient, so look again shortly rather than stop watching.
        if (errno != EINTR) std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      if ((descriptors[1].revents & POLLIN) != 0) return;
      if ((descriptors[0].revents & POLLIN) != 0) read_events();
      if (watch < 0 && Clock::now() >= next_rewatch) try_rewatch();
      report_settled();
    }
  }
};

PluginWatcher::PluginWatcher(std::filesystem::path directory, Callback callback,
                             PluginWatcherOptions options)
    : state_(std::make_unique<State>(std::move(directory), std::move(callback), options)) {}

PluginWatcher::~PluginWatcher() { stop(); }

void PluginWatcher::start() {
  State& state = *state_;
  std::lock_guard lock(state.control_mutex);
  if (state.thread.joinable()) return;
  FileDescriptor inotify(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!inotify) throw std::system_error(errno, std::generic_category(), "cannot start inotify");
  const int watch = ::inotify_add_watch(inotify.get(), state.directory.c_str(), kWatchMask);
  if (watch < 0) {
    throw std::system_error(errno, std::generic_category(),
                            "cannot watch the plugin directory " + state.directory.string());
  }
  FileDescriptor stop_event(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!stop_event)
    throw std::system_error(errno, std::generic_category(), "cannot create an eventfd");
  state.inotify = std::move(inotify);
  state.stop_event = std::move(stop_event);
  state.watch = watch;
  state.thread = std::thread([&state] { state.run(); });
}

void PluginWatcher::stop() {
  State& state = *state_;
  std::lock_guard lock(state.control_mutex);
  if (!state.thread.joinable()) return;
  const std::uint64_t one = 1;
  // An eventfd write of 8 bytes cannot be partial; it fails only on overflow.
  [[maybe_unused]] const ssize_t written = ::write(state.stop_event.get(), &one, sizeof one);
  state.thread.join();
  state.inotify.reset();  // drops the watch with it
  state.stop_event.reset();
  state.watch = -1;
  state.debouncer = ChangeDebouncer(state.options.settle, state.options.open_settle);
}

const std::filesystem::path& PluginWatcher::directory() const noexcept { return state_->directory; }

}  // namespace edge
