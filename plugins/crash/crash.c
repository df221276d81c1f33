/* crash — misbehaves on request, to show what process isolation contains:
 * input "segv" dereferences a null pointer (SIGSEGV), "abort" calls abort(),
 * "exit" calls exit(3); anything else returns "ok". Run it only with
 * `isolation: process`: in-process, each of these takes the host down. */
#include <edge/sdk.h>

#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int input_is(const uint8_t* input, size_t size, const char* word) {
  return size == strlen(word) && memcmp(input, word, size) == 0;
}

/* Not instrumented by UBSan (the sanitizer builds): the null store must
 * really fault, not be reported and turned into exit(1). */
#if defined(__GNUC__)
__attribute__((no_sanitize("undefined"))) /* g++ >= 8 and clang spell it so */
#endif
static edge_result
crash_invoke(void* instance, const edge_host_api* host, edge_call* call, const uint8_t* input,
             size_t input_size) {
  (void)instance;
  if (input_is(input, input_size, "segv")) {
    /* volatile: the compiler may not prove the null store away. */
    volatile int* volatile nowhere = NULL;
    *nowhere = 1;   /* NOLINT(clang-analyzer-core.NullDereference): the crash is the point */
    raise(SIGSEGV); /* not reached; belt and braces */
  }
  if (input_is(input, input_size, "abort")) abort();
  /* NOLINTNEXTLINE(concurrency-mt-unsafe): exiting from a call is what it demonstrates */
  if (input_is(input, input_size, "exit")) exit(3);
  static const char kOk[] = "ok";
  return host->set_output(call, kOk, sizeof kOk - 1) == 0 ? EDGE_OK : EDGE_ERROR;
}

static const edge_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(edge_plugin_descriptor),
    .abi_version = EDGE_ABI_VERSION,
    .name = "crash",
    .version = "1.0.0",
    .description = "Crashes on request: segv, abort or exit; anything else returns ok",
    .default_memory_mb = 16,
    .default_timeout_ms = 1000,
    .required_capabilities = NULL,
    .flags = 0,
    .init = NULL,
    .invoke = crash_invoke,
    .shutdown = NULL,
};

EDGE_PLUGIN_EXPORT const edge_plugin_descriptor* edge_plugin_entry(void) { return &kDescriptor; }
