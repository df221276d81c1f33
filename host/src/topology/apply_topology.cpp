#include <edge/errors.hpp>
#include <edge/topology.hpp>

#include <cassert>
#include <stdexcept>
#include <string>

namespace edge {
namespace {

// "<file>: function 'x': <the cluster's reason>", without naming the function
// twice when the cluster's message already does.
std::string describe_failure(const Topology& topology, const EdgeFunction& function,
                             const std::string& reason) {
  std::string message = topology.source.string() + ": ";
  if (reason.find("'" + function.id + "'") == std::string::npos) {
    message += "function '" + function.id + "': ";
  }
  return message + reason;
}

}  // namespace

void apply_topology(EdgeCluster& cluster, const Topology& topology) {
  // Nodes first, so that each function sees every node of the file.
  for (const EdgeNode& node : topology.nodes) cluster.register_node(node);

  for (const FunctionSpec& spec : topology.functions) {
    // A function no node can take now is not an error: deploy_to_all keeps
    // it as an intent and deploy_least_loaded keeps it pending; both are
    // placed when a qualifying node registers (see config/README.md).
    try {
      switch (spec.placement) {
        case Placement::All:
          cluster.deploy_to_all(spec.function);
          break;
        case Placement::LeastLoaded:
          cluster.deploy_least_loaded(spec.function);
          break;
        case Placement::Pinned:
          // The loader reads "all" or "least_loaded" only: a controller pins (assign).
          assert(false && "a topology function is never pinned");
          break;
      }
    } catch (const DeploymentError& error) {
      throw DeploymentError(describe_failure(topology, spec.function, error.what()));
    } catch (const std::invalid_argument& error) {
      throw DeploymentError(describe_failure(topology, spec.function, error.what()));
    }
  }
}

}  // namespace edge
