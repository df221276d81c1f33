/* A plugin whose descriptor is built from fuzz bytes at every call of
 * edge_plugin_entry, for fuzz_descriptor. The bytes come from the fuzzer
 * executable through a symbol it exports (edge_fuzz_descriptor_input, found
 * with dlsym at run time: the plugin links with --no-undefined and exports
 * only the entry symbol, like every plugin).
 *
 * Every pointer in the descriptor points into memory this plugin owns: the
 * fuzz decides sizes, versions, flags, counts, which hooks are present and
 * the bytes of the strings (each NUL-terminated inside its own allocation),
 * never raw pointer values. The descriptor itself is a heap block of exactly
 * struct_size bytes (at least its first two fields, at most 4 KiB), so a host
 * that reads past what struct_size promises trips AddressSanitizer. */
#define _GNU_SOURCE
#include <edge/sdk.h>

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

struct edge_fuzz_input {
  const unsigned char* data;
  size_t size;
};

/* The previous descriptor and its strings: freed when the next one is built
 * (the host has unloaded the plugin by then; the fuzzer keeps the library
 * mapped). */
enum { kMaxCapabilities = 8, kMaxDescriptorBytes = 4096 };
static void* g_descriptor;
static char* g_strings[3 + kMaxCapabilities];
static const char** g_capabilities;
static char* g_error_message;
static size_t g_error_size;
static unsigned char g_init_behaviour;
static unsigned char g_invoke_result;
static unsigned char g_log_level;

struct reader {
  const unsigned char* data;
  size_t size;
};

static unsigned char read_u8(struct reader* in) {
  if (in->size == 0) return 0;
  unsigned char value = in->data[0];
  in->data++;
  in->size--;
  return value;
}

static uint32_t read_u32(struct reader* in) {
  uint32_t value = 0;
  for (int byte = 0; byte < 4; ++byte) value |= (uint32_t)read_u8(in) << (8 * byte);
  return value;
}

/* A string of up to 255 fuzz bytes (length first), NUL-terminated in its own
 * allocation. Embedded NULs stay: the host sees the prefix. */
static char* read_string(struct reader* in, size_t* size_out) {
  size_t size = read_u8(in);
  if (size > in->size) size = in->size;
  char* text = malloc(size + 1);
  if (text == NULL) abort();
  memcpy(text, in->data, size);
  text[size] = '\0';
  in->data += size;
  in->size -= size;
  if (size_out != NULL) *size_out = size;
  return text;
}

static void release_previous(void) {
  free(g_descriptor);
  g_descriptor = NULL;
  for (size_t index = 0; index < sizeof g_strings / sizeof g_strings[0]; ++index) {
    free(g_strings[index]);
    g_strings[index] = NULL;
  }
  free(g_capabilities);
  g_capabilities = NULL;
  free(g_error_message);
  g_error_message = NULL;
}

static int g_instance_token;

static edge_result fuzz_init(const edge_host_api* host, edge_call* call, void** instance) {
  switch (g_init_behaviour % 4) {
    case 0:
      *instance = &g_instance_token;
      return EDGE_OK;
    case 1:
      host->set_error(call, g_error_message, g_error_size);
      return EDGE_ERROR;
    case 2:
      return (edge_result)g_init_behaviour; /* any code, known or not */
    default:
      host->log(call, (edge_log_level)g_log_level, g_error_message, g_error_size);
      return host->remaining_ms(call) >= 0 ? EDGE_OK : EDGE_ERROR;
  }
}

static edge_result fuzz_invoke(void* instance, const edge_host_api* host, edge_call* call,
                               const uint8_t* input, size_t input_size) {
  (void)instance;
  if (host->set_output(call, input, input_size) != 0) return EDGE_ERROR;
  host->log(call, (edge_log_level)g_log_level, g_error_message, g_error_size);
  if (g_invoke_result != EDGE_OK) host->set_error(call, g_error_message, g_error_size);
  return (edge_result)g_invoke_result;
}

static void fuzz_shutdown(void* instance) {
  if (instance != NULL && instance != &g_instance_token) abort(); /* the host lost our instance */
}

EDGE_PLUGIN_EXPORT const edge_plugin_descriptor* edge_plugin_entry(void) {
  release_previous();
  const struct edge_fuzz_input* input = dlsym(RTLD_DEFAULT, "edge_fuzz_descriptor_input");
  if (input == NULL) return NULL;
  struct reader in = {input->data, input->size};

  const uint32_t struct_size = read_u32(&in);
  const uint32_t abi_version = read_u32(&in);
  const unsigned char present = read_u8(&in); /* which pointers are non-null */
  edge_plugin_descriptor built;
  memset(&built, 0, sizeof built);
  built.struct_size = struct_size;
  built.abi_version = abi_version;
  built.default_memory_mb = read_u32(&in);
  built.default_timeout_ms = read_u32(&in);
  built.flags = read_u32(&in);
  g_init_behaviour = read_u8(&in);
  g_invoke_result = read_u8(&in);
  g_log_level = read_u8(&in);
  const size_t capability_count = read_u8(&in) % (kMaxCapabilities + 1);

  g_strings[0] = read_string(&in, NULL);
  g_strings[1] = read_string(&in, NULL);
  g_strings[2] = read_string(&in, NULL);
  g_error_message = read_string(&in, &g_error_size);
  if (present & 0x01) built.name = g_strings[0];
  if (present & 0x02) built.version = g_strings[1];
  if (present & 0x04) built.description = g_strings[2];
  if (present & 0x08) {
    g_capabilities = calloc(capability_count + 1, sizeof *g_capabilities);
    if (g_capabilities == NULL) abort();
    for (size_t index = 0; index < capability_count; ++index) {
      g_strings[3 + index] = read_string(&in, NULL);
      g_capabilities[index] = g_strings[3 + index];
    }
    built.required_capabilities = g_capabilities;
  }
  if (present & 0x10) built.init = fuzz_init;
  if (present & 0x20) built.invoke = fuzz_invoke;
  if (present & 0x40) built.shutdown = fuzz_shutdown;

  /* What the plugin really provides: struct_size bytes (the first two
   * fields always: every host reads them). */
  size_t allocated = struct_size;
  if (allocated < 2 * sizeof(uint32_t)) allocated = 2 * sizeof(uint32_t);
  if (allocated > kMaxDescriptorBytes) allocated = kMaxDescriptorBytes;
  g_descriptor = calloc(1, allocated);
  if (g_descriptor == NULL) abort();
  memcpy(g_descriptor, &built, allocated < sizeof built ? allocated : sizeof built);
  return (present & 0x80) ? NULL : (const edge_plugin_descriptor*)g_descriptor;
}
