// The report edge-host prints at start-up: which functions run on which
// node, and which ones no node can take yet.
#pragma once

#include <edge/cluster.hpp>
#include <edge/topology.hpp>

#include <ostream>

namespace edge::app {

// Writes a summary line, a table (node id, status, location, capabilities,
// functions) and, if any function runs nowhere, a table of those.
void print_placement(std::ostream& out, const edge::Topology& topology,
                     const edge::EdgeCluster& cluster);

}  // namespace edge::app
