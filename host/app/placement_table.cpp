#include "placement_table.hpp"

#include "wording.hpp"

#include <algorithm>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace edge::app {
namespace {

using Row = std::vector<std::string>;

// Columns padded to their widest cell, two spaces apart; the last column is
// not padded so that lines carry no trailing blanks.
void print_table(std::ostream& out, const std::vector<Row>& rows, std::string_view indent) {
  std::vector<std::size_t> widths;
  for (const Row& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t column = 0; column < row.size(); ++column) {
      widths[column] = std::max(widths[column], row[column].size());
    }
  }
  for (const Row& row : rows) {
    std::string line(indent);
    for (std::size_t column = 0; column < row.size(); ++column) {
      line += row[column];
      if (column + 1 < row.size()) line.append(widths[column] - row[column].size() + 2, ' ');
    }
    out << line << '\n';
  }
}

// "a, b, c", or "-" for none, so that an empty cell still reads as a value.
std::string join(const std::vector<std::string>& items) {
  if (items.empty()) return "-";
  std::string text;
  for (const std::string& item : items) {
    if (!text.empty()) text += ", ";
    text += item;
  }
  return text;
}

std::string or_dash(const std::string& text) { return text.empty() ? "-" : text; }

std::string number(double value) {
  std::ostringstream text;
  text << value;
  return text.str();
}

// What a function asks of a node, to explain why it runs nowhere.
std::string requirements_of(const edge::EdgeFunction& function) {
  std::string text = number(function.memory_mb) + " MB";
  if (!function.required_capabilities.empty()) {
    text += "; capabilities " + join(function.required_capabilities);
  }
  return text;
}

}  // namespace

void print_placement(std::ostream& out, const edge::Topology& topology,
                     const edge::EdgeCluster& cluster) {
  const std::vector<std::string> function_ids = cluster.function_ids();
  std::map<std::string, std::vector<std::string>> functions_by_node;
  std::vector<std::string> placed_nowhere;
  for (const std::string& function_id : function_ids) {
    const std::vector<std::string> nodes = cluster.nodes_running(function_id);
    if (nodes.empty()) placed_nowhere.push_back(function_id);
    for (const std::string& node_id : nodes) functions_by_node[node_id].push_back(function_id);
  }
  const edge::ClusterHealth health = cluster.health();

  out << "cluster '" << topology.cluster_name << "' (" << topology.source.string()
      << "): " << count_of(health.total_nodes, "node") << ", "
      << count_of(function_ids.size(), "function");
  if (health.pending_functions != 0) out << " (" << health.pending_functions << " pending)";
  out << "; status " << health.status << "; heartbeat timeout "
      << number(topology.heartbeat_timeout_seconds) << " s\n\n";

  std::vector<Row> nodes{{"NODE", "STATUS", "LOCATION", "CAPABILITIES", "FUNCTIONS"}};
  for (const edge::EdgeNode& node : cluster.nodes()) {
    nodes.push_back({node.id, std::string(edge::to_string(node.status)), or_dash(node.location),
                     join(node.capabilities), join(functions_by_node[node.id])});
  }
  print_table(out, nodes, "");

  if (!placed_nowhere.empty()) {
    out << "\nnot running on any node (no node can take them now):\n";
    std::vector<Row> functions{{"FUNCTION", "PLACEMENT", "NEEDS"}};
    for (const std::string& function_id : placed_nowhere) {
      const std::optional<edge::EdgeFunction> function = cluster.function(function_id);
      const std::optional<edge::Placement> placement = cluster.placement(function_id);
      functions.push_back({function_id, placement ? std::string(edge::to_string(*placement)) : "-",
                           function ? requirements_of(*function) : "-"});
    }
    print_table(out, functions, "  ");
  }
}

}  // namespace edge::app
