#include <edge/cluster.hpp>
#include <edge/errors.hpp>
#include <edge/node_backend.hpp>
#include <edge/plugin_store.hpp>

#include "cluster/heartbeat_table.hpp"
#include "cluster/local_node.hpp"
#include "cluster/placement.hpp"
#include "concurrency/epoch.hpp"
#include "concurrency/read_mostly_map.hpp"
#include "runtime/function_validation.hpp"

#include <time.h>
#include <algorithm>
#include <cmath>
#include <exception>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <thread>
#include <utility>

namespace edge {

using concurrency::EpochDomain;
using concurrency::EpochGuard;
using Clock = std::chrono::steady_clock;

namespace {

// Heartbeat times come from the coarse monotonic clock: the same clock as
// steady_clock (CLOCK_MONOTONIC) at a few milliseconds' resolution, read
// without the TSC arithmetic. Staleness is judged in seconds, and heartbeat()
// is the hottest call of a large cluster.
std::int64_t now_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// A registered node. The atomics are written under the cluster mutex and read
// lock-free by invoke routing; everything else is guarded by the mutex.
struct NodeEntry {
  NodeEntry(EdgeNode node, std::unique_ptr<NodeBackend> node_backend)
      : id(node.id),
        backend(std::move(node_backend)),
        local(backend->local_runtime()),
        meta(std::move(node)) {}

  const std::string id;
  const std::unique_ptr<NodeBackend> backend;
  // The backend's runtime when the node runs in this process, else nullptr:
  // invoke calls it directly, without the backend's virtual call.
  EdgeRuntime* const local;
  std::atomic<EdgeNodeStatus> status{EdgeNodeStatus::Online};
  std::atomic<bool> healthy{false};
  std::atomic<double> score{0};
  std::atomic<std::int64_t>* last_heartbeat = nullptr;  // a HeartbeatTable slot

  // Guarded by the cluster mutex.
  EdgeNode meta;
  std::size_t heartbeat_index = 0;
  bool indexed = false;  // in the placement index, under the key below
  double indexed_score = 0;
  std::size_t indexed_count = 0;
};

// Least-loaded order: score, then fewer functions, then id.
struct IndexKey {
  double score;
  std::size_t function_count;
  NodeEntry* entry;
  bool operator<(const IndexKey& other) const {
    if (score != other.score) return score < other.score;
    if (function_count != other.function_count) return function_count < other.function_count;
    return entry->id < other.entry->id;
  }
};

// Where a function runs now, published for lock-free invoke routing.
struct Route {
  std::vector<NodeEntry*> nodes;
  bool idempotent = false;  // a call a node did not answer may be sent to another
};

// What the cluster was asked to do with a function. Guarded by the mutex.
struct Intent {
  EdgeFunction function;
  Placement placement = Placement::All;
  std::vector<NodeEntry*> nodes;  // where it runs; empty least-loaded = pending
};

bool contains(const std::vector<NodeEntry*>& nodes, const NodeEntry* node) {
  return std::find(nodes.begin(), nodes.end(), node) != nodes.end();
}

// Whether a node serves calls at all: Online and Degraded ones do, and a
// Syncing one (still fetching plugins) at the Degraded tier, as long as it
// serves the function itself (NodeBackend::serves).
bool in_service(EdgeNodeStatus status) {
  return status == EdgeNodeStatus::Online || status == EdgeNodeStatus::Degraded ||
         status == EdgeNodeStatus::Syncing;
}

// The fields of a definition that make a copy differ (the handler of a
// native function cannot be compared, and is not part of a definition that
// travels).
bool same_definition(const EdgeFunction& a, const EdgeFunction& b) {
  return a.to_json() == b.to_json();
}

}  // namespace

std::string_view to_string(Placement placement) noexcept {
  switch (placement) {
    case Placement::All:
      return "all";
    case Placement::LeastLoaded:
      return "least_loaded";
    case Placement::Pinned:
      return "pinned";
  }
  return "unknown";
}

namespace {

// The node that should serve a call of `function_id` on `route` now: in
// service, serving it, healthy before not, least loaded; never `excluded`
// (the node that just failed to answer). nullptr when none.
NodeEntry* choose_for_call(const Route& route, std::string_view function_id,
                           const NodeEntry* excluded) {
  NodeEntry* best = nullptr;
  bool best_healthy = false;
  double best_score = 0;
  for (NodeEntry* node : route.nodes) {
    if (node == excluded || !in_service(node->status.load(std::memory_order_relaxed))) continue;
    // Only a remote node can be in service without serving the function
    // (still fetching its plugin); a local one is asked nothing more.
    if (node->local == nullptr && !node->backend->serves(function_id)) continue;
    const bool healthy = node->healthy.load(std::memory_order_relaxed);
    const double score = node->score.load(std::memory_order_relaxed);
    if (best == nullptr || (healthy && !best_healthy) ||
        (healthy == best_healthy && score < best_score)) {
      best = node;
      best_healthy = healthy;
      best_score = score;
    }
  }
  return best;
}

EdgeRuntime::CallResult call_on(NodeEntry& node, std::string_view function_id,
                                std::string_view input) {
  if (node.local != nullptr) return node.local->invoke_detailed(function_id, input);
  return node.backend->invoke(function_id, input);
}

}  // namespace

struct EdgeCluster::State {
  explicit State(ClusterOptions cluster_options) : options(std::move(cluster_options)) {}

  const ClusterOptions options;
  mutable std::mutex mutex;  // serialises every change below
  concurrency::ReadMostlyMap<NodeEntry> nodes;
  concurrency::ReadMostlyMap<Route> routes;
  HeartbeatTable<NodeEntry> heartbeats;                // guarded by mutex
  std::set<IndexKey> placement_index;                  // guarded by mutex
  std::map<std::string, Intent, std::less<>> intents;  // guarded by mutex

  NodeEntry* find(std::string_view node_id) const {
    EpochGuard guard;  // the mutex keeps the entry alive once we return
    return nodes.find(node_id);
  }
  NodeEntry& existing(std::string_view node_id) const {
    NodeEntry* entry = find(node_id);
    if (entry == nullptr)
      throw std::invalid_argument("unknown node '" + std::string(node_id) + "'");
    return *entry;
  }

  NodeLoad load_of(const NodeEntry& entry, std::string_view function_id) const {
    return {entry.meta, entry.backend->function_count(), entry.backend->has_function(function_id),
            entry.backend->refusal(function_id)};
  }

  // Recomputes a node's published status, health and score, and its place in
  // the placement index. Call after any change to the node or its functions.
  void refresh(NodeEntry& entry) {
    unindex(entry);
    const std::size_t count = entry.backend->function_count();
    const double score = load_score(entry.meta.resources, count, entry.meta.max_functions);
    entry.status.store(entry.meta.status, std::memory_order_relaxed);
    entry.healthy.store(entry.meta.is_healthy(), std::memory_order_relaxed);
    entry.score.store(score, std::memory_order_relaxed);
    if (entry.meta.is_healthy() &&
        count < static_cast<std::size_t>(std::max(entry.meta.max_functions, 0))) {
      placement_index.insert({score, count, &entry});
      entry.indexed = true;
      entry.indexed_score = score;
      entry.indexed_count = count;
    }
  }

  // Takes the node out of the placement index (before it is freed, too).
  void unindex(NodeEntry& entry) {
    if (entry.indexed) {
      placement_index.erase({entry.indexed_score, entry.indexed_count, &entry});
      entry.indexed = false;
    }
  }

  // The status of a node in service: Degraded while overloaded.
  static EdgeNodeStatus in_service_status(const EdgeNode& node) {
    return node.resources.is_overloaded() ? EdgeNodeStatus::Degraded : EdgeNodeStatus::Online;
  }

  void set_status(NodeEntry& entry, EdgeNodeStatus status) {
    entry.meta.status = status;
    entry.backend->update_node(entry.meta);
    refresh(entry);
  }

  void publish_route(const std::string& function_id, const Intent& intent) {
    routes.insert_or_replace(function_id, Route{intent.nodes, intent.function.idempotent});
  }

  // The least-loaded node that can take `function`, other than `excluded`.
  // A node already running the function competes with its count minus one.
  NodeEntry* choose(const EdgeFunction& function, const Intent* current,
                    const NodeEntry* excluded) {
    NodeEntry* best = nullptr;
    IndexKey best_key{0, 0, nullptr};
    for (const IndexKey& key : placement_index) {
      if (key.entry == excluded) continue;
      const bool runs = current != nullptr &&
                        std::count(current->nodes.begin(), current->nodes.end(), key.entry) != 0;
      if (runs) continue;  // judged below with its adjusted load
      if (!least_loaded_rejection(load_of(*key.entry, function.id), function)) {
        best = key.entry;
        best_key = key;
        break;
      }
    }
    if (current != nullptr) {
      for (NodeEntry* holder : current->nodes) {
        if (holder == excluded || least_loaded_rejection(load_of(*holder, function.id), function))
          continue;
        const std::size_t count = holder->backend->function_count() - 1;
        const IndexKey key{load_score(holder->meta.resources, count, holder->meta.max_functions),
                           count, holder};
        if (best == nullptr || key < best_key) {
          best = holder;
          best_key = key;
        }
      }
    }
    return best;
  }

  // The cluster's API validated the definition (plugin file included) when
  // it was given; placing it again later must not fail because the file has
  // gone since: the backend defers that to the copy's cold start.
  void deploy_on(NodeEntry& entry, const EdgeFunction& function) {
    entry.backend->deploy(function);
    refresh(entry);
  }
  void undeploy_from(NodeEntry& entry, std::string_view function_id) {
    entry.backend->undeploy(function_id);
    refresh(entry);
  }

  // What converge does with a copy already on a target: replace it (a new
  // definition), or keep it warm (the same definition, only nodes change).
  enum class ExistingCopies : std::uint8_t { Replace, Keep };

  // Makes `intent` run on exactly `targets`: deploys (or replaces) there and
  // removes it from every other node, then publishes the route.
  // Order matters for calls in flight: new copies first, then the route,
  // then removal of the old copies, so a call always finds one to run.
  void converge(const std::string& function_id, Intent& intent,
                const std::vector<NodeEntry*>& targets,
                ExistingCopies existing = ExistingCopies::Replace) {
    for (NodeEntry* node : targets) {
      const bool has_copy =
          std::find(intent.nodes.begin(), intent.nodes.end(), node) != intent.nodes.end();
      if (existing == ExistingCopies::Replace || !has_copy) deploy_on(*node, intent.function);
    }
    const std::vector<NodeEntry*> previous = std::exchange(intent.nodes, targets);
    publish_route(function_id, intent);
    for (NodeEntry* node : previous) {
      if (std::find(targets.begin(), targets.end(), node) == targets.end())
        undeploy_from(*node, function_id);
    }
  }

  // Places a least-loaded function anew, avoiding `excluded`; it becomes
  // pending when no node qualifies.
  void place_least_loaded(const std::string& function_id, Intent& intent,
                          const NodeEntry* excluded) {
    NodeEntry* chosen = choose(intent.function, &intent, excluded);
    converge(function_id, intent,
             chosen ? std::vector<NodeEntry*>{chosen} : std::vector<NodeEntry*>{});
  }

  // Gives a node that became able to serve the deploy_to_all functions it
  // qualifies for, and places pending functions anywhere they now fit.
  void apply_intents(NodeEntry& entry) {
    for (auto& [function_id, intent] : intents) {
      if (intent.placement != Placement::All) continue;
      if (std::find(intent.nodes.begin(), intent.nodes.end(), &entry) != intent.nodes.end())
        continue;
      if (deploy_to_all_rejection(load_of(entry, function_id), intent.function)) continue;
      deploy_on(entry, intent.function);
      intent.nodes.push_back(&entry);
      publish_route(function_id, intent);
    }
    place_pending();
  }
  void place_pending() {
    for (auto& [function_id, intent] : intents) {
      if (intent.placement == Placement::LeastLoaded && intent.nodes.empty()) {
        if (NodeEntry* chosen = choose(intent.function, nullptr, nullptr)) {
          converge(function_id, intent, {chosen});
        }
      }
    }
  }

  // Empties a node about to leave service: its least-loaded functions move
  // elsewhere (or become pending); its deploy_to_all and pinned functions
  // are removed too when `remove_all_copies`, else left in place (a pinned
  // one is never moved: whoever assigned it decides where it goes next). The
  // node is never chosen, whatever its status still says.
  void evacuate(NodeEntry& entry, bool remove_all_copies) {
    for (auto& [function_id, intent] : intents) {
      if (std::find(intent.nodes.begin(), intent.nodes.end(), &entry) == intent.nodes.end())
        continue;
      if (intent.placement == Placement::LeastLoaded) {
        place_least_loaded(function_id, intent, &entry);
      } else if (remove_all_copies) {
        std::vector<NodeEntry*> remaining;
        for (NodeEntry* node : intent.nodes) {
          if (node != &entry) remaining.push_back(node);
        }
        // The other copies stay warm: one node leaving costs no cold starts.
        converge(function_id, intent, remaining, ExistingCopies::Keep);
      }
    }
  }

  // Whether the node already runs this very definition of the function, so
  // that adopting its copy costs no new version. A remote backend cannot show
  // its definition: the copy it has is taken as the one it was given.
  static bool runs_same(NodeEntry& entry, const EdgeFunction& function) {
    if (!entry.backend->has_function(function.id)) return false;
    if (entry.local == nullptr) return true;
    try {
      return same_definition(entry.local->function(function.id), function);
    } catch (const std::invalid_argument&) {
      return false;  // undeployed since: cannot happen under the mutex, but costs nothing
    }
  }

  // Where restore() puts a function: the given nodes that are registered, in
  // service and do not refuse it, each once, in the order given.
  std::vector<NodeEntry*> restorable(const EdgeFunction& function,
                                     const std::vector<std::string>& node_ids) const {
    std::vector<NodeEntry*> nodes;
    for (const std::string& node_id : node_ids) {
      NodeEntry* entry = find(node_id);
      if (entry == nullptr || !in_service(entry->meta.status) || contains(nodes, entry)) continue;
      if (entry->backend->refusal(function.id)) continue;
      nodes.push_back(entry);
    }
    return nodes;
  }

  // The least loaded of `nodes`, counting the copy each already has.
  static NodeEntry* least_loaded_of(const std::vector<NodeEntry*>& nodes) {
    NodeEntry* best = nullptr;
    IndexKey best_key{0, 0, nullptr};
    for (NodeEntry* node : nodes) {
      const std::size_t count = node->backend->function_count();
      const IndexKey key{load_score(node->meta.resources, count, node->meta.max_functions), count,
                         node};
      if (best == nullptr || key < best_key) {
        best = node;
        best_key = key;
      }
    }
    return best;
  }

  // As converge with ExistingCopies::Keep, where copies may also run on
  // nodes the intent does not list (what a restarting controller finds):
  // a target already running this definition keeps its copy warm, and
  // `strays` (nodes found running it that are not targets) lose theirs.
  // `definition_kept`: the intent's copies run the definition it has now.
  void adopt(const std::string& function_id, Intent& intent, const std::vector<NodeEntry*>& targets,
             const std::vector<NodeEntry*>& strays, bool definition_kept) {
    for (NodeEntry* node : targets) {
      const bool warm =
          runs_same(*node, intent.function) && (definition_kept || !contains(intent.nodes, node));
      if (!warm) deploy_on(*node, intent.function);
    }
    std::vector<NodeEntry*> previous = std::exchange(intent.nodes, targets);
    publish_route(function_id, intent);
    for (NodeEntry* node : strays) {
      if (!contains(previous, node) && node->backend->has_function(function_id))
        previous.push_back(node);
    }
    for (NodeEntry* node : previous) {
      if (!contains(targets, node)) undeploy_from(*node, function_id);
    }
  }

  EdgeNode snapshot(const NodeEntry& entry) const {
    EdgeNode node = entry.meta;
    node.last_heartbeat =
        Clock::time_point(Clock::duration(entry.last_heartbeat->load(std::memory_order_relaxed)));
    return node;
  }
};

EdgeCluster::EdgeCluster() : EdgeCluster(ClusterOptions{}) {}

EdgeCluster::EdgeCluster(ClusterOptions options)
    : state_(std::make_unique<State>(std::move(options))) {}

EdgeCluster::~EdgeCluster() {
  // Callers guarantee that no call is running; runtimes unload their plugins.
  state_.reset();
  if (!EpochGuard::active()) EpochDomain::global().synchronize();
}

void EdgeCluster::register_node(EdgeNode node) { register_node(std::move(node), nullptr); }

void EdgeCluster::register_node(EdgeNode node, std::unique_ptr<NodeBackend> backend) {
  if (node.id.empty()) throw std::invalid_argument("cannot register a node with an empty id");
  if (node.name.empty()) node.name = node.id;
  if (!node.resources.is_valid()) {
    throw std::invalid_argument("node '" + node.id + "' reports invalid resource figures");
  }
  {
    std::lock_guard lock(state_->mutex);
    // In service means Online, or Degraded while overloaded, as heartbeats decide.
    if (node.status == EdgeNodeStatus::Online || node.status == EdgeNodeStatus::Degraded) {
      node.status = State::in_service_status(node);
    }
    NodeEntry* entry = state_->find(node.id);
    if (entry != nullptr) {
      // A drain is the operator's decision: re-registering does not undo it.
      if (entry->meta.status == EdgeNodeStatus::Maintenance)
        node.status = EdgeNodeStatus::Maintenance;
      entry->meta = std::move(node);
    } else {
      // Made only for a new node: a known one keeps its runtime and functions.
      if (backend == nullptr) {
        backend = std::make_unique<LocalNode>(node, state_->options.plugin_store,
                                              state_->options.sandbox);
      }
      std::string id = node.id;
      entry = &state_->nodes.insert_or_replace(std::move(id), std::move(node), std::move(backend));
      entry->heartbeat_index = state_->heartbeats.allocate(entry, now_ns());
      entry->last_heartbeat = &state_->heartbeats.slot(entry->heartbeat_index);
    }
    entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    entry->backend->update_node(entry->meta);
    state_->refresh(*entry);
    state_->apply_intents(*entry);
  }
  EpochDomain::global().reclaim();
}

bool EdgeCluster::deregister_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    state_->evacuate(*entry, /*remove_all_copies=*/true);
    // The entry is still in the placement index (every refresh, evacuating's
    // too, puts it there): take it out, or a later placement would pick a
    // freed node.
    state_->unindex(*entry);
    state_->heartbeats.release(entry->heartbeat_index);
    state_->nodes.erase(node_id);  // retired: in-flight calls finish first
  }
  EpochDomain::global().reclaim();
  return true;
}

void EdgeCluster::heartbeat(std::string_view node_id) {
  {
    EpochGuard guard;
    NodeEntry* entry = state_->nodes.find(node_id);
    if (entry == nullptr)
      throw std::invalid_argument("heartbeat from unknown node '" + std::string(node_id) + "'");
    if (entry->status.load(std::memory_order_relaxed) != EdgeNodeStatus::Offline) [[likely]] {
      entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
      return;
    }
  }
  // An Offline node is back: the slow path changes its status under the lock.
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry& entry = state_->existing(node_id);
    entry.last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    if (entry.meta.status == EdgeNodeStatus::Offline) {
      state_->set_status(entry, State::in_service_status(entry.meta));
      state_->apply_intents(entry);
    }
  }
  EpochDomain::global().reclaim();
}

void EdgeCluster::heartbeat(std::string_view node_id, const ResourceUsage& usage) {
  if (!usage.is_valid()) {
    throw std::invalid_argument("heartbeat from node '" + std::string(node_id) +
                                "' has invalid resource figures (expected finite, non-negative "
                                "numbers and cpu_percent <= 100)");
  }
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry& entry = state_->existing(node_id);
    entry.last_heartbeat->store(now_ns(), std::memory_order_relaxed);
    const bool was_healthy = entry.meta.is_healthy();
    entry.meta.resources = usage;
    EdgeNodeStatus status = entry.meta.status;
    if (status == EdgeNodeStatus::Offline) status = EdgeNodeStatus::Online;
    if (status == EdgeNodeStatus::Online && usage.is_overloaded())
      status = EdgeNodeStatus::Degraded;
    if (status == EdgeNodeStatus::Degraded && !usage.is_overloaded())
      status = EdgeNodeStatus::Online;
    state_->set_status(entry, status);
    if (!was_healthy && entry.meta.is_healthy()) state_->apply_intents(entry);
  }
  EpochDomain::global().reclaim();
}

int EdgeCluster::deploy_to_all(const EdgeFunction& function) {
  validate_function(function);
  std::size_t placed = 0;
  {
    std::lock_guard lock(state_->mutex);
    Intent& intent = state_->intents[function.id];
    intent.function = function;
    intent.placement = Placement::All;
    std::vector<NodeEntry*> targets;
    state_->nodes.for_each([&](std::string_view, NodeEntry& entry) {
      if (!deploy_to_all_rejection(state_->load_of(entry, function.id), function))
        targets.push_back(&entry);
    });
    state_->converge(function.id, intent, targets);
    placed = targets.size();
  }
  EpochDomain::global().reclaim();
  return static_cast<int>(placed);
}

std::optional<std::string> EdgeCluster::deploy_least_loaded(const EdgeFunction& function) {
  validate_function(function);
  std::optional<std::string> placed;
  {
    std::lock_guard lock(state_->mutex);
    auto [position, inserted] = state_->intents.try_emplace(function.id);
    Intent& intent = position->second;
    intent.function = function;
    intent.placement = Placement::LeastLoaded;
    state_->place_least_loaded(function.id, intent, nullptr);
    if (!intent.nodes.empty()) placed = intent.nodes.front()->id;
  }
  EpochDomain::global().reclaim();
  return placed;
}

PlacementPlan EdgeCluster::plan(const EdgeFunction& function, Placement placement) const {
  validate_function(function);
  PlacementPlan plan;
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function.id);
  const Intent* current = position != state_->intents.end() ? &position->second : nullptr;
  const NodeEntry* best = nullptr;
  IndexKey best_key{0, 0, nullptr};
  state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
    const NodeLoad load = state_->load_of(entry, function.id);
    std::optional<std::string> rejection;
    switch (placement) {
      case Placement::All:
        rejection = deploy_to_all_rejection(load, function);
        break;
      case Placement::LeastLoaded:
        rejection = least_loaded_rejection(load, function);
        break;
      case Placement::Pinned:
        rejection = assign_rejection(load, function);
        break;
    }
    if (rejection) {
      plan.rejected.emplace_back(entry.id, *rejection);
      return;
    }
    if (placement != Placement::LeastLoaded) {
      plan.nodes.push_back(entry.id);
      return;
    }
    // As choose(): a node already running it competes without that copy.
    const bool runs =
        current != nullptr && std::count(current->nodes.begin(), current->nodes.end(), &entry) != 0;
    const std::size_t count = load.function_count - (runs ? 1 : 0);
    const IndexKey key{load_score(entry.meta.resources, count, entry.meta.max_functions), count,
                       const_cast<NodeEntry*>(&entry)};
    if (best == nullptr || key < best_key) {
      best = &entry;
      best_key = key;
    }
  });
  if (best != nullptr) plan.nodes.push_back(best->id);
  std::sort(plan.nodes.begin(), plan.nodes.end());
  std::sort(plan.rejected.begin(), plan.rejected.end());
  return plan;
}

void EdgeCluster::assign(const EdgeFunction& function, std::string_view node_id) {
  validate_function(function);
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry& entry = state_->existing(node_id);
    const auto position = state_->intents.find(function.id);
    const Intent* current = position != state_->intents.end() ? &position->second : nullptr;
    if (current != nullptr && current->placement != Placement::Pinned) {
      throw DeploymentError("cannot assign function '" + function.id + "' to node '" + entry.id +
                            "': it is placed " + std::string(to_string(current->placement)) +
                            " already (remove it first)");
    }
    const bool changed = current == nullptr || !same_definition(current->function, function);
    const bool assigned = current != nullptr && contains(current->nodes, &entry);
    if (assigned && !changed) return;  // that copy runs already
    // The cluster keeps one definition per function: a new one replaces
    // every copy, so that each runs what function() and redeploy() show.
    std::vector<NodeEntry*> targets =
        current != nullptr ? current->nodes : std::vector<NodeEntry*>{};
    if (!assigned) targets.push_back(&entry);
    for (NodeEntry* node : targets) {
      if (node != &entry && !changed) continue;  // keeps its copy
      if (const auto rejection = assign_rejection(state_->load_of(*node, function.id), function)) {
        throw DeploymentError("cannot assign function '" + function.id + "' to node '" + node->id +
                              "': " + *rejection);
      }
    }
    Intent& intent = state_->intents[function.id];
    intent.function = function;
    intent.placement = Placement::Pinned;
    state_->converge(function.id, intent, targets,
                     changed ? State::ExistingCopies::Replace : State::ExistingCopies::Keep);
  }
  EpochDomain::global().reclaim();
}

bool EdgeCluster::unassign(std::string_view function_id, std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    const auto position = state_->intents.find(function_id);
    if (entry == nullptr || position == state_->intents.end()) return false;
    Intent& intent = position->second;
    if (intent.placement != Placement::Pinned || !contains(intent.nodes, entry)) return false;
    std::vector<NodeEntry*> remaining;
    for (NodeEntry* node : intent.nodes) {
      if (node != entry) remaining.push_back(node);
    }
    if (remaining.empty()) {
      state_->routes.erase(function_id);
      state_->undeploy_from(*entry, function_id);
      state_->intents.erase(position);
    } else {
      state_->converge(position->first, intent, remaining, State::ExistingCopies::Keep);
    }
  }
  EpochDomain::global().reclaim();
  return true;
}

void EdgeCluster::restore(const EdgeFunction& function, Placement placement,
                          const std::vector<std::string>& node_ids) {
  validate_function(function);
  {
    std::lock_guard lock(state_->mutex);
    auto [position, inserted] = state_->intents.try_emplace(function.id);
    Intent& intent = position->second;
    const bool definition_kept = !inserted && same_definition(intent.function, function);
    intent.function = function;
    intent.placement = placement;
    const std::vector<NodeEntry*> restorable = state_->restorable(function, node_ids);
    std::vector<NodeEntry*> targets = restorable;
    if (placement == Placement::LeastLoaded && !restorable.empty()) {
      targets = {State::least_loaded_of(restorable)};
    } else if (placement == Placement::All) {
      state_->nodes.for_each([&](std::string_view, NodeEntry& entry) {
        if (!contains(targets, &entry) &&
            !deploy_to_all_rejection(state_->load_of(entry, function.id), function)) {
          targets.push_back(&entry);
        }
      });
    }
    if (placement == Placement::LeastLoaded && targets.empty()) {
      state_->place_least_loaded(function.id, intent, nullptr);  // none of them can keep it
    } else {
      state_->adopt(function.id, intent, targets, restorable, definition_kept);
    }
  }
  EpochDomain::global().reclaim();
}

nlohmann::json PlacementPlan::to_json() const {
  nlohmann::json rejected_json = nlohmann::json::object();
  for (const auto& [node, reason] : rejected) rejected_json[node] = reason;
  return {{"nodes", nodes}, {"rejected", std::move(rejected_json)}};
}

bool EdgeCluster::remove_function(std::string_view function_id) {
  {
    std::lock_guard lock(state_->mutex);
    auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return false;
    for (NodeEntry* node : position->second.nodes) state_->undeploy_from(*node, function_id);
    state_->routes.erase(function_id);
    state_->intents.erase(position);
  }
  EpochDomain::global().reclaim();
  return true;
}

std::size_t EdgeCluster::redeploy(std::string_view function_id) {
  return redeploy_unless_running(function_id, {});
}

std::size_t EdgeCluster::redeploy_unless_running(std::string_view function_id,
                                                 std::string_view sha256) {
  std::size_t replaced = 0;
  {
    std::lock_guard lock(state_->mutex);
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return 0;
    const Intent& intent = position->second;
    if (!sha256.empty() &&
        std::all_of(intent.nodes.begin(), intent.nodes.end(), [&](const NodeEntry* node) {
          const FunctionStats stats = node->backend->function_stats(function_id);
          return stats.is_warm && stats.plugin_sha256 == sha256;
        })) {
      return 0;
    }
    for (NodeEntry* node : intent.nodes) {
      state_->deploy_on(*node, intent.function);
      ++replaced;
    }
  }
  EpochDomain::global().reclaim();
  return replaced;
}

bool EdgeCluster::drain_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    // Functions move first and the status changes after, so that a call
    // always finds a route to a node in service.
    state_->evacuate(*entry, /*remove_all_copies=*/true);
    state_->set_status(*entry, EdgeNodeStatus::Maintenance);
  }
  // Every call that could still run on the drained node started before this
  // point: wait for them to return (and their plugins to shut down).
  EpochDomain::global().synchronize();
  return true;
}

bool EdgeCluster::resume_node(std::string_view node_id) {
  {
    std::lock_guard lock(state_->mutex);
    NodeEntry* entry = state_->find(node_id);
    if (entry == nullptr) return false;
    if (entry->meta.status == EdgeNodeStatus::Maintenance) {
      entry->last_heartbeat->store(now_ns(), std::memory_order_relaxed);
      state_->set_status(*entry, State::in_service_status(entry->meta));
    }
    state_->apply_intents(*entry);
  }
  EpochDomain::global().reclaim();
  return true;
}

std::vector<std::string> EdgeCluster::detect_stale_nodes(double timeout_seconds) {
  if (!std::isfinite(timeout_seconds) || timeout_seconds < 0) {
    throw std::invalid_argument("stale timeout must be a finite, non-negative number of seconds");
  }
  const auto timeout =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(timeout_seconds));
  const std::int64_t cutoff = now_ns() - timeout.count();
  std::vector<std::string> stale;
  {
    std::lock_guard lock(state_->mutex);
    std::vector<NodeEntry*> candidates;
    state_->heartbeats.for_each_older_than(cutoff,
                                           [&](NodeEntry* entry) { candidates.push_back(entry); });
    std::vector<NodeEntry*> newly_offline;
    for (NodeEntry* entry : candidates) {
      if (entry->meta.status == EdgeNodeStatus::Maintenance) continue;
      stale.push_back(entry->id);
      if (entry->meta.status != EdgeNodeStatus::Offline) newly_offline.push_back(entry);
    }
    // All of them leave the placement index before any function moves, so
    // nothing fails over onto a node that is itself going offline.
    for (NodeEntry* entry : newly_offline) state_->set_status(*entry, EdgeNodeStatus::Offline);
    for (NodeEntry* entry : newly_offline) state_->evacuate(*entry, /*remove_all_copies=*/false);
  }
  std::sort(stale.begin(), stale.end());
  if (!stale.empty()) EpochDomain::global().reclaim();
  return stale;
}

ClusterHealth EdgeCluster::health() const {
  ClusterHealth health;
  std::lock_guard lock(state_->mutex);
  double cpu_sum = 0;
  double memory_sum = 0;
  state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
    const EdgeNode& node = entry.meta;
    ++health.total_nodes;
    switch (node.status) {
      case EdgeNodeStatus::Online:
        ++health.online;
        break;
      case EdgeNodeStatus::Offline:
        ++health.offline;
        break;
      case EdgeNodeStatus::Degraded:
        ++health.degraded;
        break;
      case EdgeNodeStatus::Syncing:
        ++health.syncing;
        break;
      case EdgeNodeStatus::Maintenance:
        ++health.maintenance;
        break;
    }
    if (node.is_healthy()) ++health.healthy_nodes;
    if (node.resources.is_overloaded()) ++health.overloaded_nodes;
    health.total_functions += entry.backend->function_count();
    health.total_invocations += entry.backend->total_invocations();
    health.cold_starts += entry.backend->cold_start_count();
    cpu_sum += node.resources.cpu_percent;
    memory_sum += node.resources.memory_percent();
  });
  for (const auto& [id, intent] : state_->intents) {
    if (intent.nodes.empty()) ++health.pending_functions;
  }
  if (health.total_nodes == 0) {
    health.status = "empty";
    return health;
  }
  const auto nodes = static_cast<double>(health.total_nodes);
  health.avg_cpu_percent = cpu_sum / nodes;
  health.avg_memory_percent = memory_sum / nodes;
  if (health.healthy_nodes == health.total_nodes) {
    health.status = "healthy";
  } else if (health.healthy_nodes * 2 >= health.total_nodes) {
    health.status = "degraded";
  } else {
    health.status = "critical";
  }
  return health;
}

std::optional<EdgeNode> EdgeCluster::node(std::string_view node_id) const {
  std::lock_guard lock(state_->mutex);
  const NodeEntry* entry = state_->find(node_id);
  if (entry == nullptr) return std::nullopt;
  return state_->snapshot(*entry);
}

std::vector<EdgeNode> EdgeCluster::nodes() const {
  std::vector<EdgeNode> result;
  {
    std::lock_guard lock(state_->mutex);
    state_->nodes.for_each([&](std::string_view, const NodeEntry& entry) {
      result.push_back(state_->snapshot(entry));
    });
  }
  std::sort(result.begin(), result.end(),
            [](const EdgeNode& a, const EdgeNode& b) { return a.id < b.id; });
  return result;
}

EdgeRuntime* EdgeCluster::runtime(std::string_view node_id) {
  NodeEntry* entry = state_->find(node_id);
  return entry != nullptr ? entry->local : nullptr;
}

std::vector<std::string> EdgeCluster::functions_on(std::string_view node_id) const {
  std::lock_guard lock(state_->mutex);  // keeps the node (and its backend) registered
  const NodeEntry* entry = state_->find(node_id);
  if (entry == nullptr) return {};
  return entry->backend->function_ids();
}

std::vector<std::string> EdgeCluster::nodes_running(std::string_view function_id) const {
  std::vector<std::string> ids;
  {
    std::lock_guard lock(state_->mutex);
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return ids;
    for (const NodeEntry* node : position->second.nodes) ids.push_back(node->id);
  }
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::vector<std::string> EdgeCluster::function_ids() const {
  std::lock_guard lock(state_->mutex);
  std::vector<std::string> ids;
  for (const auto& [id, intent] : state_->intents) ids.push_back(id);
  return ids;  // std::map keeps them sorted
}

std::optional<EdgeFunction> EdgeCluster::function(std::string_view function_id) const {
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function_id);
  if (position == state_->intents.end()) return std::nullopt;
  return position->second.function;
}

std::optional<Placement> EdgeCluster::placement(std::string_view function_id) const {
  std::lock_guard lock(state_->mutex);
  const auto position = state_->intents.find(function_id);
  if (position == state_->intents.end()) return std::nullopt;
  return position->second.placement;
}

std::vector<std::pair<std::string, FunctionStats>> EdgeCluster::function_stats(
    std::string_view function_id) const {
  std::vector<std::pair<std::string, FunctionStats>> result;
  {
    std::lock_guard lock(state_->mutex);  // keeps the nodes (and runtimes) registered
    const auto position = state_->intents.find(function_id);
    if (position == state_->intents.end()) return result;
    for (const NodeEntry* node : position->second.nodes) {
      result.emplace_back(node->id, node->backend->function_stats(function_id));
    }
  }
  std::sort(result.begin(), result.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return result;
}

const std::shared_ptr<PluginStore>& EdgeCluster::plugin_store() const noexcept {
  return state_->options.plugin_store;
}

std::int64_t EdgeCluster::in_flight() const {
  std::int64_t total = 0;
  std::lock_guard lock(state_->mutex);
  state_->nodes.for_each(
      [&](std::string_view, const NodeEntry& entry) { total += entry.backend->in_flight(); });
  return total;
}

bool EdgeCluster::wait_for_idle(std::chrono::milliseconds timeout) const {
  // Polling: a call's end is not signalled (that would cost every call a
  // shared write); a few milliseconds of delay only matter at shutdown.
  constexpr std::chrono::milliseconds kPollInterval{5};
  const Clock::time_point deadline = Clock::now() + timeout;
  for (;;) {
    if (in_flight() <= 0) return true;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<Clock::duration>(kPollInterval, deadline - now));
  }
}

std::string EdgeCluster::invoke(std::string_view function_id, std::string_view input) {
  return invoke_routed(function_id, input).result.output;
}

namespace {

// The node chosen for a call did not answer (call from the catch block): an
// idempotent call goes to the best other node, once; otherwise, or with no
// other node to go to, the caller gets that node's NodeUnavailableError.
EdgeCluster::RoutedCall retry_elsewhere(const Route& route, std::string_view function_id,
                                        std::string_view input, const NodeEntry& failed) {
  const std::exception_ptr unavailable = std::current_exception();
  NodeEntry* other = route.idempotent ? choose_for_call(route, function_id, &failed) : nullptr;
  if (other == nullptr) std::rethrow_exception(unavailable);
  try {
    return {other->id, call_on(*other, function_id, input)};
  } catch (const std::invalid_argument&) {
    // The other node lost the function meanwhile: the first failure is the one to report.
    std::rethrow_exception(unavailable);
  }
}

}  // namespace

bool EdgeCluster::can_serve(std::string_view function_id) const {
  EpochGuard guard;  // the route and its nodes stay alive while we look
  const Route* route = state_->routes.find(function_id);
  return route != nullptr && choose_for_call(*route, function_id, nullptr) != nullptr;
}

EdgeCluster::RoutedCall EdgeCluster::invoke_routed(std::string_view function_id,
                                                   std::string_view input) {
  // A route can change between reading it and calling the node (a drain or a
  // move): the node then no longer has the function, or is no longer in
  // service, and we read the route again.
  constexpr int kAttempts = 3;
  EpochGuard guard;  // across attempts, so a route's address is never reused meanwhile
  const Route* previous_route = nullptr;
  for (int attempt = 1;; ++attempt) {
    const Route* route = state_->routes.find(function_id);
    if (route == nullptr)
      throw std::invalid_argument("unknown function '" + std::string(function_id) + "'");
    const bool route_changed = std::exchange(previous_route, route) != route;
    NodeEntry* best = choose_for_call(*route, function_id, nullptr);
    if (best == nullptr) {
      if (attempt < kAttempts && route_changed) continue;  // one more look at a fresh route
      throw EdgeExecutionError(
          "function '" + std::string(function_id) + "' cannot be served now: " +
          (route->nodes.empty()
               ? std::string("it is pending, no node qualifies for it")
               : "every node running it is offline, in maintenance or still syncing it"));
    }
    try {
      return {best->id, call_on(*best, function_id, input)};
    } catch (const NodeUnavailableError&) {
      if (!route->idempotent) throw;
      return retry_elsewhere(*route, function_id, input, *best);
    } catch (const std::invalid_argument&) {
      if (attempt >= kAttempts) {
        throw EdgeExecutionError("function '" + std::string(function_id) +
                                 "' kept moving while being called; try again");
      }
    }
  }
}

EdgeCluster::RoutedCall EdgeCluster::invoke_on(std::string_view node_id,
                                               std::string_view function_id,
                                               std::string_view input) {
  EpochGuard guard;  // a node deregistered meanwhile stays alive until the call returns
  NodeEntry* node = state_->nodes.find(node_id);
  if (node == nullptr) throw std::invalid_argument("unknown node '" + std::string(node_id) + "'");
  if (!node->backend->has_function(function_id)) {
    throw std::invalid_argument("node '" + node->id + "' does not run function '" +
                                std::string(function_id) + "'");
  }
  return {node->id, call_on(*node, function_id, input)};
}

nlohmann::json ClusterHealth::to_json() const {
  return {{"total_nodes", total_nodes},
          {"online", online},
          {"offline", offline},
          {"degraded", degraded},
          {"syncing", syncing},
          {"maintenance", maintenance},
          {"healthy_nodes", healthy_nodes},
          {"overloaded_nodes", overloaded_nodes},
          {"total_functions", total_functions},
          {"total_invocations", total_invocations},
          {"cold_starts", cold_starts},
          {"avg_cpu_percent", avg_cpu_percent},
          {"avg_memory_percent", avg_memory_percent},
          {"pending_functions", pending_functions},
          {"status", status}};
}

}  // namespace edge
