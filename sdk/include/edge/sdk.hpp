// edge/sdk.hpp — a small, header-only C++17 layer over the C ABI in edge/sdk.h.
//
// A C++ plugin writes an ordinary function and exports it with one macro:
//
//   #include <edge/sdk.hpp>
//
//   std::string handler(std::string_view input, edge::sdk::Context& context) {
//     return std::string(input);
//   }
//   EDGE_EXPORT_FUNCTION(handler, "echo", "1.0.0", "Returns its input unchanged")
//
// Optional descriptor fields are set with a constexpr builder and the general
// macro (every call below is optional and may be chained in any order):
//
//   inline constexpr const char* kCapabilities[] = {"gpio", nullptr};
//   EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<handler>("blink", "1.0.0", "Blinks a LED")
//                          .memory_mb(16)
//                          .timeout_ms(500)
//                          .capabilities(kCapabilities)
//                          .serial())
//
// A plugin with per-instance state writes a class instead:
//
//   class Counter {
//    public:
//     std::string invoke(std::string_view input, edge::sdk::Context& context);
//   };
//   EDGE_EXPORT_CLASS(Counter, "counter", "1.0.0", "Counts its invocations")
//
// The class is constructed in the plugin's init hook (from `Context&` if it has
// such a constructor, otherwise default-constructed) and deleted in shutdown.
// The general form is EDGE_EXPORT_PLUGIN(edge::sdk::describe_class<Counter>(...)...).
//
// WHAT THIS LAYER GUARANTEES AT THE BOUNDARY
//   - Nothing C++ crosses it. Every generated hook is `noexcept` and catches
//     every exception: edge::sdk::DeadlineExceeded becomes
//     EDGE_DEADLINE_EXCEEDED, any other std::exception becomes EDGE_ERROR with
//     its what() as the message, anything else EDGE_ERROR with
//     "unknown exception". An exception escaping into the host would unwind
//     through C frames of a library built by another compiler: undefined
//     behaviour, usually std::terminate of the whole host.
//   - The returned std::string is handed to host->set_output, which copies it;
//     the string is then destroyed here, by the allocator that made it. Memory
//     never changes owner across the boundary, so host and plugin may use
//     different C++ runtimes and the plugin can be unloaded safely.
//   - The descriptor is a `static constexpr` object inside edge_plugin_entry:
//     constant-initialised (no code runs at load, nothing can throw), and it
//     lives as long as the library, as sdk.h requires.
//
// THREADS
//   Unless the descriptor has .serial(), the host may call a handler (or
//   T::invoke on the single instance) from several threads at once. Keep
//   shared state in atomics or behind a mutex, or mark the plugin serial.
//
// Exactly one EDGE_EXPORT_* macro per plugin library: each defines the
// exported symbol edge_plugin_entry. Build the plugin with edge_add_plugin()
// (hidden visibility), so that this symbol is the only one exported.
#ifndef EDGE_SDK_HPP
#define EDGE_SDK_HPP

#include <edge/sdk.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>

namespace edge::sdk {

// Thrown by a handler that gives up because the call's deadline has passed;
// the hook then returns EDGE_DEADLINE_EXCEEDED (the host reports a timeout).
class DeadlineExceeded : public std::runtime_error {
 public:
  DeadlineExceeded() : std::runtime_error("deadline exceeded") {}
  explicit DeadlineExceeded(const std::string& message) : std::runtime_error(message) {}
};

// The host's view of the current call: the C host table plus the call handle.
//
// OWNERSHIP / LIFETIME: a Context borrows both pointers from the host and is
// valid only inside the hook it was passed to. Do not store it, nor any
// string_view it returns, beyond that hook. It is not thread-safe to share a
// Context between threads (each call gets its own).
class Context {
 public:
  Context(const edge_host_api* host, edge_call* call) noexcept : host_(host), call_(call) {}

  // The value of `name` (NUL-terminated) in the function's environment, or
  // nullopt if unset. The view points into host memory, valid until the
  // current hook returns; copy it into a std::string to keep it longer.
  std::optional<std::string_view> env(const char* name) const noexcept {
    if (name == nullptr) return std::nullopt;
    std::size_t size = 0;
    const char* value = host_->get_env(call_, name, &size);
    if (value == nullptr) return std::nullopt;
    return std::string_view(value, size);
  }

  // Writes one line to the host log, tagged with the function id.
  void log(edge_log_level level, std::string_view message) const noexcept {
    host_->log(call_, level, message.data(), message.size());
  }

  // Milliseconds left before the call's deadline; 0 once it has passed.
  std::int64_t remaining_ms() const noexcept { return host_->remaining_ms(call_); }

  bool deadline_passed() const noexcept { return remaining_ms() <= 0; }

  // Throws DeadlineExceeded if the deadline has passed: a one-line check for
  // the loops of long-running handlers.
  void check_deadline() const {
    if (deadline_passed()) throw DeadlineExceeded();
  }

  // The raw C handles, for code that needs the ABI directly. Same lifetime
  // rules as the Context itself.
  const edge_host_api* host() const noexcept { return host_; }
  edge_call* call() const noexcept { return call_; }

 private:
  const edge_host_api* host_;  // OWNERSHIP: borrowed from the host
  edge_call* call_;            // OWNERSHIP: borrowed; valid only during the hook
};

// The signature of a stateless handler.
using Handler = std::string (*)(std::string_view input, Context& context);

namespace detail {

// The generated hooks use every callback of the version-1 table; refuse to
// run (rather than jump through a missing pointer) if the host's is shorter.
inline bool host_is_usable(const edge_host_api* host) noexcept {
  return host != nullptr &&
         host->struct_size >= offsetof(edge_host_api, set_error) + sizeof(host->set_error) &&
         host->set_error != nullptr && host->set_output != nullptr;
}

inline void report_error(const edge_host_api* host, edge_call* call, const char* message) noexcept {
  if (message == nullptr) message = "unknown exception";
  host->set_error(call, message, std::strlen(message));
}

// Runs `body` (which returns an edge_result) and turns every exception into a
// result code plus a message. The only place where exceptions are translated.
template <typename Body>
edge_result guarded(const edge_host_api* host, edge_call* call, Body&& body) noexcept {
  try {
    return body();
  } catch (const DeadlineExceeded& deadline) {
    report_error(host, call, deadline.what());
    return EDGE_DEADLINE_EXCEEDED;
  } catch (const std::exception& error) {
    report_error(host, call, error.what());
    return EDGE_ERROR;
  } catch (...) {
    report_error(host, call, "unknown exception");
    return EDGE_ERROR;
  }
}

// Hands the output to the host, which copies it (see the ownership note above).
inline edge_result deliver(const edge_host_api* host, edge_call* call, const std::string& output) {
  if (host->set_output(call, output.data(), output.size()) != 0) {
    throw std::runtime_error("the host could not store the " + std::to_string(output.size()) +
                             "-byte output");
  }
  return EDGE_OK;
}

inline std::string_view as_view(const std::uint8_t* input, std::size_t input_size) noexcept {
  // sdk.h allows input == NULL when input_size == 0.
  if (input == nullptr || input_size == 0) return {};
  return std::string_view(reinterpret_cast<const char*>(input), input_size);
}

template <Handler handler>
edge_result invoke_function(void* /*instance*/, const edge_host_api* host, edge_call* call,
                            const std::uint8_t* input, std::size_t input_size) noexcept {
  if (!host_is_usable(host)) return EDGE_ERROR;
  return guarded(host, call, [&] {
    Context context(host, call);
    return deliver(host, call, handler(as_view(input, input_size), context));
  });
}

template <typename T>
edge_result init_class(const edge_host_api* host, edge_call* call, void** instance) noexcept {
  if (!host_is_usable(host)) return EDGE_ERROR;
  if (instance == nullptr) {
    report_error(host, call, "edge::sdk: init called without an instance slot");
    return EDGE_ERROR;
  }
  *instance = nullptr;
  return guarded(host, call, [&] {
    Context context(host, call);
    // If the constructor throws, the new-expression frees the memory: nothing
    // leaks, *instance stays null and the host does not call shutdown.
    // guarded() catches std::bad_alloc too (the check cannot see that).
    if constexpr (std::is_constructible_v<T, Context&>) {
      *instance = new T(context);  // NOLINT(bugprone-unhandled-exception-at-new)
    } else {
      *instance = new T();  // NOLINT(bugprone-unhandled-exception-at-new)
    }
    return EDGE_OK;
  });
}

template <typename T>
edge_result invoke_class(void* instance, const edge_host_api* host, edge_call* call,
                         const std::uint8_t* input, std::size_t input_size) noexcept {
  if (!host_is_usable(host)) return EDGE_ERROR;
  if (instance == nullptr) {
    // The host calls invoke only after a successful init; fail closed anyway.
    report_error(host, call, "edge::sdk: invoke called without an instance (did init run?)");
    return EDGE_ERROR;
  }
  return guarded(host, call, [&] {
    Context context(host, call);
    return deliver(host, call,
                   static_cast<T*>(instance)->invoke(as_view(input, input_size), context));
  });
}

template <typename T>
void shutdown_class(void* instance) noexcept {
  // shutdown has no way to report an error; a throwing destructor (which
  // must be declared noexcept(false) to exist at all) is contained here.
  try {
    delete static_cast<T*>(instance);
  } catch (...) {
  }
}

}  // namespace detail

// A constexpr builder for edge_plugin_descriptor. Each setter returns a
// modified copy, so calls chain on a temporary inside a constant expression.
class Descriptor {
 public:
  constexpr Descriptor(const char* name, const char* version, const char* description) noexcept
      : raw_{} {
    raw_.struct_size = sizeof(edge_plugin_descriptor);
    raw_.abi_version = EDGE_ABI_VERSION;
    raw_.name = name;
    raw_.version = version;
    raw_.description = description;
  }

  // Default memory limit in MB (0: the host's default).
  constexpr Descriptor memory_mb(std::uint32_t megabytes) const noexcept {
    Descriptor copy = *this;
    copy.raw_.default_memory_mb = megabytes;
    return copy;
  }

  // Default timeout in milliseconds (0: the host's default).
  constexpr Descriptor timeout_ms(std::uint32_t milliseconds) const noexcept {
    Descriptor copy = *this;
    copy.raw_.default_timeout_ms = milliseconds;
    return copy;
  }

  // Capabilities a node must have. `list` must be a static array whose last
  // element is nullptr, e.g. `inline constexpr const char* kCaps[] = {"gpio", nullptr};`.
  // A list without the terminator does not compile (the throw below is
  // reached during constant evaluation, which is an error).
  template <std::size_t N>
  constexpr Descriptor capabilities(const char* const (&list)[N]) const {
    if (list[N - 1] != nullptr) throw std::logic_error("capability list must end with nullptr");
    Descriptor copy = *this;
    copy.raw_.required_capabilities = list;
    return copy;
  }

  // Ask the host to serialise calls to invoke (EDGE_PLUGIN_SERIAL).
  constexpr Descriptor serial() const noexcept {
    Descriptor copy = *this;
    copy.raw_.flags |= EDGE_PLUGIN_SERIAL;
    return copy;
  }

  // Raw hooks, for plugins that manage their own C-level state. The hooks
  // must not let exceptions escape (use detail::guarded or catch yourself).
  constexpr Descriptor hooks(decltype(edge_plugin_descriptor::init) init,
                             decltype(edge_plugin_descriptor::invoke) invoke,
                             decltype(edge_plugin_descriptor::shutdown) shutdown) const noexcept {
    Descriptor copy = *this;
    copy.raw_.init = init;
    copy.raw_.invoke = invoke;
    copy.raw_.shutdown = shutdown;
    return copy;
  }

  constexpr const edge_plugin_descriptor& raw() const noexcept { return raw_; }

 private:
  edge_plugin_descriptor raw_;
};

// A descriptor whose invoke calls `handler` (stateless; no init/shutdown).
template <Handler handler>
constexpr Descriptor describe_function(const char* name, const char* version,
                                       const char* description) noexcept {
  return Descriptor(name, version, description)
      .hooks(nullptr, &detail::invoke_function<handler>, nullptr);
}

// A descriptor for a stateful plugin: init constructs one T per load, invoke
// calls T::invoke(std::string_view, Context&) -> std::string, shutdown
// deletes it.
template <typename T>
constexpr Descriptor describe_class(const char* name, const char* version,
                                    const char* description) noexcept {
  static_assert(std::is_default_constructible_v<T> || std::is_constructible_v<T, Context&>,
                "an EDGE_EXPORT_CLASS type needs a default or a (Context&) constructor");
  return Descriptor(name, version, description)
      .hooks(&detail::init_class<T>, &detail::invoke_class<T>, &detail::shutdown_class<T>);
}

namespace detail {
constexpr const edge_plugin_descriptor& to_raw(const Descriptor& descriptor) noexcept {
  return descriptor.raw();
}
constexpr const edge_plugin_descriptor& to_raw(const edge_plugin_descriptor& raw) noexcept {
  return raw;
}
}  // namespace detail

}  // namespace edge::sdk

// Defines the exported entry symbol returning the descriptor built by the
// argument (an edge::sdk::Descriptor or a plain edge_plugin_descriptor, which
// must be a constant expression). Use once per plugin library.
#define EDGE_EXPORT_PLUGIN(...)                                                                  \
  extern "C" EDGE_PLUGIN_EXPORT const edge_plugin_descriptor* edge_plugin_entry(void) noexcept { \
    static constexpr edge_plugin_descriptor edge_sdk_descriptor =                                \
        ::edge::sdk::detail::to_raw(__VA_ARGS__);                                                \
    return &edge_sdk_descriptor;                                                                 \
  }

// Exports `handler` (std::string(std::string_view, edge::sdk::Context&)) with
// the host's defaults for memory, timeout, capabilities and flags.
#define EDGE_EXPORT_FUNCTION(handler, name, version, description) \
  EDGE_EXPORT_PLUGIN(::edge::sdk::describe_function<handler>(name, version, description))

// Exports class `Type` (one instance per load; see describe_class).
#define EDGE_EXPORT_CLASS(Type, name, version, description) \
  EDGE_EXPORT_PLUGIN(::edge::sdk::describe_class<Type>(name, version, description))

#endif  // EDGE_SDK_HPP
