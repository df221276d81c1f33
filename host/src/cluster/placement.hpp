// The placement rules, as pure functions of what a node reports. Shared by
// EdgeCluster (which keeps an index ordered by load_score) and by anything
// that explains a placement (the HTTP API's dry-run "plan").
#pragma once

#include <edge/models.hpp>

#include <cstddef>
#include <optional>
#include <string>

namespace edge {

// What the cluster knows about a node when placing: the node itself, how
// many functions it runs, whether it already runs the one being placed, and
// why its backend refuses that function (NodeBackend::refusal), if it does.
struct NodeLoad {
  const EdgeNode& node;
  std::size_t function_count;
  bool runs_function;
  std::optional<std::string> refusal = std::nullopt;
};

// max(cpu %, memory %, 100 * functions / max_functions): the node's most
// saturated resource. Lower is less loaded.
double load_score(const ResourceUsage& resources, std::size_t function_count, int max_functions);

// Why the node cannot take a least-loaded placement of `function`, or nullopt
// when it can: it must not refuse the function, be Online, not overloaded,
// able to run the function, with room (a node already running it has room
// for its new version).
std::optional<std::string> least_loaded_rejection(const NodeLoad& load,
                                                  const EdgeFunction& function);

// Why the node cannot take a deploy_to_all copy: it must not refuse the
// function, be Online or Degraded, able to run the function, with room (or
// already run it).
std::optional<std::string> deploy_to_all_rejection(const NodeLoad& load,
                                                   const EdgeFunction& function);

// Why the node cannot be assigned `function` (a Pinned placement, decided by
// a controller): only what makes a copy impossible, able to run it and room
// (or already run it). Neither its status nor a refusal count: whoever
// assigns has decided with both in view, and a new version must be able to
// replace one that a node refused.
std::optional<std::string> assign_rejection(const NodeLoad& load, const EdgeFunction& function);

}  // namespace edge
