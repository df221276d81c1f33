#include "worker_loop.hpp"

#include "plugin/host_api.hpp"
#include "plugin/loaded_plugin.hpp"
#include "sandbox/frame_channel.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <mutex>
#include <new>

namespace edge::worker {
namespace {

using sandbox::FrameType;
using Clock = std::chrono::steady_clock;

// Frames go out from the serving thread and from any thread a plugin starts
// that logs: one writer at a time.
struct Outbox {
  sandbox::FrameChannel channel;
  std::mutex mutex;

  void send(FrameType type, std::string_view payload) {
    std::lock_guard lock(mutex);
    channel.send(type, payload);
  }
};

Outbox* outbox = nullptr;
int raw_channel = -1;
// Encoded once at start: the new-handler must not allocate.
char out_of_memory_frame[sandbox::kHeaderSize];

void forward_log(void*, edge_log_level level, std::string_view, std::string_view message) {
  try {
    outbox->send(FrameType::Log,
                 sandbox::LogLine{static_cast<std::uint8_t>(level), std::string(message)}.encode());
  } catch (...) {
    // The host is gone or the line does not fit: a log line never fails a call.
  }
}

// A C++ allocation failed: under RLIMIT_AS that is the memory limit. Tell
// the host why before dying, without allocating.
[[noreturn]] void out_of_memory() {
  (void)::send(raw_channel, out_of_memory_frame, sizeof out_of_memory_frame, MSG_NOSIGNAL);
  ::_exit(sandbox::kExitOutOfMemory);
}

}  // namespace

int serve(int channel_fd, const sandbox::SpawnRequest& request) {
  static Outbox box{sandbox::FrameChannel(FileDescriptor(channel_fd)), {}};
  outbox = &box;
  raw_channel = channel_fd;
  const std::string oom = sandbox::encode_header(FrameType::OutOfMemory, 0);
  std::copy(oom.begin(), oom.end(), out_of_memory_frame);
  std::set_new_handler(out_of_memory);
  set_plugin_log_sink(forward_log, nullptr);

  const std::map<std::string, std::string, std::less<>> environment(request.environment.begin(),
                                                                    request.environment.end());
  std::unique_ptr<LoadedPlugin> plugin;
  try {
    plugin = LoadedPlugin::load(request.plugin_path,
                                // No pin here: the host checked the pin on the copy it sent us.
                                {request.function_id,
                                 &environment,
                                 Clock::now() + std::chrono::nanoseconds(request.init_budget_ns),
                                 {}});
  } catch (const PluginError& error) {
    const bool init_failed = dynamic_cast<const PluginInitError*>(&error) != nullptr;
    box.send(FrameType::LoadFailed,
             sandbox::CallFailure{static_cast<std::uint8_t>(init_failed ? 1 : 0), error.what()}
                 .encode());
    return sandbox::kExitLoadFailed;
  }
  box.send(FrameType::Loaded, {});

  for (;;) {
    std::optional<sandbox::Frame> frame;
    try {
      frame = box.channel.receive();
    } catch (const sandbox::ChannelClosed&) {
      // The host let this worker go: run the plugin's shutdown hook (when
      // `plugin` goes out of scope), but not for longer than a second.
      ::alarm(1);
      return 0;
    }
    if (frame->type != FrameType::Invoke) {
      throw sandbox::ProtocolError("unexpected frame type " +
                                   std::to_string(static_cast<int>(frame->type)));
    }
    const sandbox::InvokeRequest invoke = sandbox::InvokeRequest::decode(frame->payload);
    edge_call call;
    call.function_id = request.function_id;
    call.environment = &environment;
    call.deadline = Clock::now() + std::chrono::nanoseconds(invoke.budget_ns);
    const edge_result result = plugin->invoke(call, invoke.input);
    if (result == EDGE_OK && call.output.size() > sandbox::kMaxPayload) {
      box.send(
          FrameType::Failed,
          sandbox::CallFailure{EDGE_ERROR, "an output of " + std::to_string(call.output.size()) +
                                               " bytes is over the process-isolation limit of " +
                                               std::to_string(sandbox::kMaxPayload) + " bytes"}
              .encode());
    } else if (result == EDGE_OK) {
      box.send(FrameType::Output, call.output);
    } else {
      box.send(FrameType::Failed,
               sandbox::CallFailure{static_cast<std::uint8_t>(result),
                                    call.error_set ? call.error : std::string("no message")}
                   .encode());
    }
  }
}

}  // namespace edge::worker
