/* spin — busy-loops forever and never looks at its deadline: only a host
 * that kills at the deadline (`isolation: process`) gets its thread back. */
#include <edge/sdk.h>

static edge_result spin_invoke(void* instance, const edge_host_api* host, edge_call* call,
                               const uint8_t* input, size_t input_size) {
  (void)instance;
  (void)host;
  (void)call;
  (void)input;
  (void)input_size;
  volatile unsigned long turns = 0;
  while (turns != (unsigned long)-1) ++turns; /* about 2^64 turns: forever */
  return EDGE_OK;
}

static const edge_plugin_descriptor kDescriptor = {
    .struct_size = sizeof(edge_plugin_descriptor),
    .abi_version = EDGE_ABI_VERSION,
    .name = "spin",
    .version = "1.0.0",
    .description = "Busy-loops forever, ignoring its deadline",
    .default_memory_mb = 16,
    .default_timeout_ms = 1000,
    .required_capabilities = NULL,
    .flags = 0,
    .init = NULL,
    .invoke = spin_invoke,
    .shutdown = NULL,
};

EDGE_PLUGIN_EXPORT const edge_plugin_descriptor* edge_plugin_entry(void) { return &kDescriptor; }
