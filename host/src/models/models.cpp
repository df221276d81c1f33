#include <edge/models.hpp>

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "util/format_number.hpp"

namespace edge {

std::string_view to_string(EdgeNodeStatus status) noexcept {
  switch (status) {
    case EdgeNodeStatus::Online:
      return "online";
    case EdgeNodeStatus::Offline:
      return "offline";
    case EdgeNodeStatus::Degraded:
      return "degraded";
    case EdgeNodeStatus::Syncing:
      return "syncing";
    case EdgeNodeStatus::Maintenance:
      return "maintenance";
  }
  return "unknown";
}

std::string_view to_string(Isolation isolation) noexcept {
  return isolation == Isolation::Process ? "process" : "none";
}

std::optional<Isolation> parse_isolation(std::string_view text) noexcept {
  for (const Isolation isolation : {Isolation::None, Isolation::Process}) {
    if (text == to_string(isolation)) return isolation;
  }
  return std::nullopt;
}

double ResourceUsage::memory_percent() const noexcept {
  return memory_max_mb == 0 ? 0.0 : memory_mb / memory_max_mb * 100.0;
}

bool ResourceUsage::is_overloaded() const noexcept {
  return cpu_percent > 90.0 || memory_percent() > 90.0;
}

bool ResourceUsage::is_valid() const noexcept {
  const auto sane = [](double value) { return std::isfinite(value) && value >= 0; };
  return sane(cpu_percent) && cpu_percent <= 100.0 && sane(memory_mb) && sane(memory_max_mb);
}

nlohmann::json ResourceUsage::to_json() const {
  return {{"cpu_percent", cpu_percent},
          {"memory_mb", memory_mb},
          {"memory_max_mb", memory_max_mb},
          {"memory_percent", memory_percent()},
          {"is_overloaded", is_overloaded()}};
}

bool EdgeNode::is_healthy() const noexcept {
  return status == EdgeNodeStatus::Online && !resources.is_overloaded();
}

bool EdgeNode::has_capability(std::string_view capability) const noexcept {
  return std::find(capabilities.begin(), capabilities.end(), capability) != capabilities.end();
}

nlohmann::json EdgeNode::to_json() const {
  return {{"id", id},
          {"name", name},
          {"location", location},
          {"status", to_string(status)},
          {"capabilities", capabilities},
          {"resources", resources.to_json()},
          {"max_functions", max_functions},
          {"is_healthy", is_healthy()}};
}

bool EdgeFunction::can_run_on(const EdgeNode& node) const noexcept {
  return memory_mb <= node.resources.memory_max_mb &&
         std::all_of(
             required_capabilities.begin(), required_capabilities.end(),
             [&](const std::string& capability) { return node.has_capability(capability); });
}

std::optional<std::string> EdgeFunction::unmet_requirement(const EdgeNode& node) const {
  for (const std::string& capability : required_capabilities) {
    if (!node.has_capability(capability)) return "missing capability '" + capability + "'";
  }
  if (memory_mb > node.resources.memory_max_mb) {
    return "not enough memory: needs " + format_number(memory_mb) + " MB, node has " +
           format_number(node.resources.memory_max_mb) + " MB";
  }
  return std::nullopt;
}

nlohmann::json EdgeFunction::to_json() const {
  return {{"id", id},
          {"name", name},
          {"kind", handler ? "native" : "plugin"},
          {"plugin", plugin.string()},
          {"plugin_sha256", plugin_sha256},
          {"memory_mb", memory_mb},
          {"timeout_seconds", timeout_seconds},
          {"environment", environment},
          {"required_capabilities", required_capabilities},
          {"isolation", to_string(isolation)},
          {"max_workers", max_workers},
          {"idempotent", idempotent}};
}

}  // namespace edge
