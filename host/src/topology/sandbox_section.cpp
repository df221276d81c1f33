#include "topology/sandbox_section.hpp"

#include "topology/function_rules.hpp"

namespace edge::topology_internal {
namespace {

constexpr NumberRule kSecondsRule{0, true, kMaxSeconds, "a positive number of seconds"};

}  // namespace

void read_sandbox_section(const ConfigContext& context, const MapReader& top,
                          SandboxOptions& options) {
  const Entry* entry = top.find("sandbox");
  if (entry == nullptr || entry->value_node.IsNull()) return;
  const MapReader fields(context, top.value_of(*entry));
  fields.check_keys({"crash_limit", "crash_window_seconds", "cooldown_seconds", "max_queue",
                     "max_processes", "max_open_files", "output_limit_bytes", "seccomp"},
                    "sandbox");
  for (const Entry& field : fields.entries()) {
    const Value value = fields.value_of(field);
    if (field.key == "crash_limit") {
      options.crash_limit = static_cast<std::size_t>(
          read_integer(context, value, 1, 1'000'000, "a whole number from 1 to 1000000"));
    } else if (field.key == "crash_window_seconds") {
      options.crash_window_seconds = read_number(context, value, kSecondsRule);
    } else if (field.key == "cooldown_seconds") {
      options.cooldown_seconds = read_number(context, value, kSecondsRule);
    } else if (field.key == "max_queue") {
      options.max_queue = static_cast<std::size_t>(
          read_integer(context, value, 0, 1'000'000, "a whole number from 0 to 1000000"));
    } else if (field.key == "max_processes") {
      options.max_processes = static_cast<std::uint32_t>(
          read_integer(context, value, 1, 100'000, "a whole number from 1 to 100000"));
    } else if (field.key == "max_open_files") {
      options.max_open_files = static_cast<std::uint32_t>(
          read_integer(context, value, 16, 1'000'000, "a whole number from 16 to 1000000"));
    } else if (field.key == "output_limit_bytes") {
      options.output_limit_bytes = static_cast<std::size_t>(
          read_integer(context, value, 0, 1 << 30, "a whole number of bytes from 0 to 1073741824"));
    } else {
      options.seccomp = read_boolean(context, value);
    }
  }
}

}  // namespace edge::topology_internal
