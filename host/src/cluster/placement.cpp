#include "cluster/placement.hpp"

#include <algorithm>

namespace edge {
namespace {

std::optional<std::string> capacity_rejection(const NodeLoad& load, const EdgeFunction& function) {
  if (std::optional<std::string> unmet = function.unmet_requirement(load.node)) return unmet;
  if (!load.runs_function &&
      load.function_count >= static_cast<std::size_t>(std::max(load.node.max_functions, 0))) {
    return "full: runs " + std::to_string(load.function_count) + " of " +
           std::to_string(load.node.max_functions) + " functions";
  }
  return std::nullopt;
}

std::string status_rejection(EdgeNodeStatus status) {
  return "node is " + std::string(to_string(status));
}

}  // namespace

double load_score(const ResourceUsage& resources, std::size_t function_count, int max_functions) {
  const double slots =
      max_functions > 0 ? 100.0 * static_cast<double>(function_count) / max_functions : 100.0;
  return std::max({resources.cpu_percent, resources.memory_percent(), slots});
}

std::optional<std::string> least_loaded_rejection(const NodeLoad& load,
                                                  const EdgeFunction& function) {
  if (load.refusal) return load.refusal;
  if (load.node.status != EdgeNodeStatus::Online) return status_rejection(load.node.status);
  if (load.node.resources.is_overloaded()) return std::string("overloaded");
  return capacity_rejection(load, function);
}

std::optional<std::string> deploy_to_all_rejection(const NodeLoad& load,
                                                   const EdgeFunction& function) {
  if (load.refusal) return load.refusal;
  if (load.node.status != EdgeNodeStatus::Online && load.node.status != EdgeNodeStatus::Degraded) {
    return status_rejection(load.node.status);
  }
  return capacity_rejection(load, function);
}

std::optional<std::string> assign_rejection(const NodeLoad& load, const EdgeFunction& function) {
  return capacity_rejection(load, function);
}

}  // namespace edge
