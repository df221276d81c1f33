// The placement rules of host/src/cluster/placement.hpp, on one node at a time.
#include "cluster/placement.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <string>

using namespace edge;

namespace {

EdgeNode make_node(EdgeNodeStatus status = EdgeNodeStatus::Online, int max_functions = 10) {
  EdgeNode node{"n", "n"};
  node.status = status;
  node.max_functions = max_functions;
  return node;
}

EdgeFunction make_function() { return EdgeFunction{"f", "f"}; }

}  // namespace

TEST_CASE("a node that refuses the function is rejected with its reason, before anything else") {
  const EdgeNode maintenance = make_node(EdgeNodeStatus::Maintenance, 0);
  const NodeLoad refusing{maintenance, 0, false, std::string("plugin failed verification")};
  CHECK(least_loaded_rejection(refusing, make_function()) ==
        std::optional<std::string>("plugin failed verification"));
  CHECK(deploy_to_all_rejection(refusing, make_function()) ==
        std::optional<std::string>("plugin failed verification"));
  // Assigning decides with the refusal in view: only capacity counts.
  CHECK(assign_rejection(refusing, make_function()) ==
        std::optional<std::string>("full: runs 0 of 0 functions"));

  const EdgeNode online = make_node();
  const NodeLoad willing{online, 0, false};
  CHECK_FALSE(least_loaded_rejection(willing, make_function()));
  CHECK_FALSE(deploy_to_all_rejection(willing, make_function()));
  CHECK_FALSE(assign_rejection({online, 0, false, std::string("refused")}, make_function()));
}

TEST_CASE("status rules: least-loaded wants Online, deploy_to_all Online or Degraded, assign any") {
  const EdgeNode degraded = make_node(EdgeNodeStatus::Degraded);
  const NodeLoad load{degraded, 0, false};
  CHECK(least_loaded_rejection(load, make_function()) ==
        std::optional<std::string>("node is degraded"));
  CHECK_FALSE(deploy_to_all_rejection(load, make_function()));
  const EdgeNode offline = make_node(EdgeNodeStatus::Offline);
  CHECK(deploy_to_all_rejection({offline, 0, false}, make_function()) ==
        std::optional<std::string>("node is offline"));
  CHECK_FALSE(assign_rejection({offline, 0, false}, make_function()));
}

TEST_CASE("a full node still has room for a new version of what it runs") {
  const EdgeNode node = make_node(EdgeNodeStatus::Online, 2);
  CHECK(least_loaded_rejection({node, 2, false}, make_function()) ==
        std::optional<std::string>("full: runs 2 of 2 functions"));
  CHECK_FALSE(least_loaded_rejection({node, 2, true}, make_function()));
  CHECK_FALSE(assign_rejection({node, 2, true}, make_function()));
}
