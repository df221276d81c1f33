/*
 * edge/sdk.h — the C ABI between the edge host and an edge function plugin.
 *
 * This is the only header a plugin includes. It is pure C11 (standard headers
 * only) so that a plugin can be written in C, C++, Rust or anything that can
 * export a C symbol.
 *
 * A plugin is a shared library exporting one symbol, EDGE_PLUGIN_ENTRY_SYMBOL
 * ("edge_plugin_entry"), a function taking no arguments and returning a
 * pointer to a static edge_plugin_descriptor. The host calls it once per load
 * and checks the descriptor before calling anything else:
 *
 *   - abi_version must equal the host's EDGE_ABI_VERSION (the major version);
 *   - struct_size must be at least EDGE_DESCRIPTOR_MIN_SIZE;
 *   - name and invoke must be non-null.
 *
 * Any failed check refuses the load with an error naming the file, what was
 * expected and what was found. The plugin is never called after that.
 *
 * COMPATIBILITY POLICY
 *   - EDGE_ABI_VERSION changes only when an existing field or callback changes
 *     meaning, type or position. A host loads only plugins of its own version.
 *   - New fields and callbacks are only ever appended to the end of
 *     edge_plugin_descriptor and edge_host_api. Each struct carries its own
 *     struct_size, so a newer host reads an older (shorter) descriptor by
 *     treating missing trailing fields as zero, and a plugin checks
 *     host->struct_size before using a callback added after version 1.
 *
 * ERRORS
 *   Hooks return an edge_result. On EDGE_ERROR the plugin should first call
 *   host->set_error with a message; the host reports that message to the
 *   caller verbatim. Nothing else crosses the boundary: no C++ exceptions (a
 *   C++ plugin must catch everything; edge/sdk.hpp does it for you), no
 *   allocator (the host copies every byte it is given), no longjmp.
 *
 * THREADS
 *   By default the host may call invoke from several threads at once, each
 *   with its own edge_call. A plugin that cannot take that sets
 *   EDGE_PLUGIN_SERIAL in flags and the host serialises its calls.
 *   init and shutdown are never concurrent with anything else on the same
 *   instance.
 */
#ifndef EDGE_SDK_H
#define EDGE_SDK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI major version this header describes. */
#define EDGE_ABI_VERSION 1u

/* The name of the one symbol a plugin exports. */
#define EDGE_PLUGIN_ENTRY_SYMBOL "edge_plugin_entry"

#if defined(_WIN32)
#define EDGE_PLUGIN_EXPORT __declspec(dllexport)
#else
#define EDGE_PLUGIN_EXPORT __attribute__((visibility("default")))
#endif

/* Result of every plugin hook. */
typedef enum edge_result {
  EDGE_OK = 0,
  /* The hook failed; the message given to set_error explains why. */
  EDGE_ERROR = 1,
  /* The plugin stopped because remaining_ms reached 0. The host reports a
   * timeout (TimeoutError) rather than a plain error. Returned from init, it
   * fails the load like EDGE_ERROR (any result other than EDGE_OK does). */
  EDGE_DEADLINE_EXCEEDED = 2
} edge_result;

typedef enum edge_log_level {
  EDGE_LOG_DEBUG = 0,
  EDGE_LOG_INFO = 1,
  EDGE_LOG_WARN = 2,
  EDGE_LOG_ERROR = 3
} edge_log_level;

/* Opaque, host-owned state of one init or invoke call. Valid only until the
 * hook it was passed to returns; never store it. */
typedef struct edge_call edge_call;

/* The table of host callbacks, handed to every hook. The plugin never links
 * against host symbols. OWNERSHIP: owned by the host; valid for as long as the
 * plugin stays loaded. Every callback may be called from any thread, but only
 * with the edge_call of the hook currently running on that thread. */
typedef struct edge_host_api {
  /* sizeof(edge_host_api) as the host compiled it. */
  uint32_t struct_size;
  /* EDGE_ABI_VERSION as the host compiled it. */
  uint32_t abi_version;

  /* Looks up `name` (NUL-terminated) in the function's environment. Returns
   * the value and stores its length in *value_size (if not null), or returns
   * NULL when the variable is unset. The value is NOT NUL-terminated in
   * general: use *value_size.
   * OWNERSHIP: the returned bytes are owned by the host and stay valid until
   * the current hook returns. */
  const char* (*get_env)(const edge_call* call, const char* name, size_t* value_size);

  /* Writes `message[0..size)` to the host log at `level`, tagged with the
   * function id. OWNERSHIP: borrowed for the duration of the call. */
  void (*log)(const edge_call* call, edge_log_level level, const char* message, size_t size);

  /* Milliseconds left before the call's deadline (its timeout_seconds), 0
   * once it has passed. Long-running plugins poll this and return
   * EDGE_DEADLINE_EXCEEDED when it reaches 0. During init it reports the
   * function's full timeout. */
  int64_t (*remaining_ms)(const edge_call* call);

  /* Sets the call's output to a copy of `data[0..size)`, replacing any
   * earlier output. `data` may be NULL only when size is 0. Returns 0 on
   * success, -1 if `data` is NULL with a non-zero size or the host could not
   * allocate (the plugin should then fail the call with EDGE_ERROR).
   * OWNERSHIP: `data` is borrowed for the duration of the call; the host
   * keeps its own copy. Ignored during init. */
  int (*set_output)(edge_call* call, const void* data, size_t size);

  /* Sets the error message reported when the hook returns EDGE_ERROR,
   * replacing any earlier message. OWNERSHIP: borrowed, copied by the host. */
  void (*set_error)(edge_call* call, const char* message, size_t size);
} edge_host_api;

/* Plugin flags (edge_plugin_descriptor.flags). */
/* Calls to invoke must not overlap: the host serialises them. */
#define EDGE_PLUGIN_SERIAL 0x1u

/* The plugin's self-description. OWNERSHIP: owned by the plugin, usually a
 * static constant; every pointer in it must stay valid while the library is
 * loaded. The host never writes to it. */
typedef struct edge_plugin_descriptor {
  /* sizeof(edge_plugin_descriptor) as the plugin compiled it. */
  uint32_t struct_size;
  /* EDGE_ABI_VERSION as the plugin compiled it. */
  uint32_t abi_version;

  /* Short name, e.g. "echo" (required, NUL-terminated). */
  const char* name;
  /* Version of the function's code, e.g. "1.2.0" (may be NULL). */
  const char* version;
  /* One line saying what the function does (may be NULL). */
  const char* description;

  /* Defaults used when the deployment does not say otherwise; 0 means "use
   * the host's default" (128 MB, 30 s). */
  uint32_t default_memory_mb;
  uint32_t default_timeout_ms;

  /* NULL-terminated array of capability names a node must have to run this
   * function, e.g. {"gpio", NULL}. May be NULL for none. */
  const char* const* required_capabilities;

  /* Bitwise OR of EDGE_PLUGIN_* flags. */
  uint32_t flags;

  /* Called once per load, before any invoke. May allocate per-instance state
   * and store it in *instance (the host passes it back to invoke and
   * shutdown). On EDGE_ERROR the load fails with the message given to
   * set_error, and shutdown is not called. May be NULL.
   * OWNERSHIP: *instance is owned by the plugin; the host only carries it. */
  edge_result (*init)(const edge_host_api* host, edge_call* call, void** instance);

  /* Handles one invocation. `input[0..input_size)` is borrowed for the
   * duration of the call (it may be NULL when input_size is 0). The result
   * goes through host->set_output; no output means an empty result.
   * Required. */
  edge_result (*invoke)(void* instance, const edge_host_api* host, edge_call* call,
                        const uint8_t* input, size_t input_size);

  /* Called once before the library is unloaded, after every call has
   * returned, if init succeeded (or was NULL). Frees the instance state.
   * May be NULL. */
  void (*shutdown)(void* instance);
} edge_plugin_descriptor;

/* The smallest descriptor a version-1 host accepts: every field above. */
#define EDGE_DESCRIPTOR_MIN_SIZE \
  (offsetof(edge_plugin_descriptor, shutdown) + sizeof(void (*)(void*)))

/* The signature of the exported entry symbol. OWNERSHIP: the returned
 * descriptor is owned by the plugin (see above). */
typedef const edge_plugin_descriptor* (*edge_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* EDGE_SDK_H */
