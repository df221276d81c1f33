/* echo — returns its input unchanged.
 *
 * Written in plain C11 against edge/sdk.h alone, to prove the ABI needs no
 * C++. It is also the benchmark's plugin, so invoke does the least possible:
 * one set_output call (the host copies the bytes; nothing is allocated here). */
#include <edge/sdk.h>

static edge_result echo_invoke(void* instance, const edge_host_api* host, edge_call* call,
                               const uint8_t* input, size_t input_size) {
  (void)instance;
  if (host->set_output(call, input, input_size) != 0) {
    static const char kMessage[] = "echo: the host could not store the output";
    host->set_error(call, kMessage, sizeof kMessage - 1);
    return EDGE_ERROR;
  }
  return EDGE_OK;
}

static const edge_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(edge_plugin_descriptor),
    .abi_version = EDGE_ABI_VERSION,
    .name = "echo",
    .version = "1.0.0",
    .description = "Returns its input unchanged (written in C; the benchmark's plugin)",
    .default_memory_mb = 16,
    .default_timeout_ms = 1000,
    .required_capabilities = NULL,
    .flags = 0,
    .init = NULL,
    .invoke = echo_invoke,
    .shutdown = NULL,
};

EDGE_PLUGIN_EXPORT const edge_plugin_descriptor* edge_plugin_entry(void) { return &kDescriptor; }
