#include "simulated_fleet.hpp"

#include "fleet/heartbeat_message.hpp"
#include "fleet/protocol.hpp"

#include <chrono>
#include <cstdio>

namespace edge::fleet_load {
namespace {

using fleet::CallOutcome;
using fleet::CallRequest;
using fleet::HeartbeatMessage;
using fleet::Inventory;

// Every simulated node looks the same but for its id.
Inventory inventory_of(const std::string& node_id, const std::string& boot_id) {
  Inventory inventory;
  inventory.node.id = node_id;
  inventory.node.name = node_id;
  inventory.node.max_functions = 10;
  inventory.node.resources.cpu_percent = 20;
  inventory.node.resources.memory_mb = 100;
  inventory.node.resources.memory_max_mb = 1024;
  inventory.boot_id = boot_id;
  return inventory;
}

}  // namespace

SimulatedFleet::SimulatedFleet(SimulatedFleetOptions options)
    : options_(std::move(options)), subjects_(options_.cluster), boot_id_("simulated") {
  for (int index = 0; index < options_.nodes; ++index) {
    char id[32];
    std::snprintf(id, sizeof id, "%04d", index);
    ids_.push_back(options_.id_prefix + id);
    subjects_of_.push_back(subjects_.heartbeat(ids_.back()));
  }
  sequences_.assign(ids_.size(), 0);
  // A heartbeat carries the digest of the inventory its node answers with
  // (the controller asks again whenever they differ).
  for (const std::string& id : ids_) digests_.push_back(inventory_of(id, boot_id_).digest());
  for (int index = 0; index < std::max(options_.connections, 1); ++index) {
    nats::NatsClientOptions client_options;
    client_options.url = options_.url;
    client_options.name = "edge-fleet-load heartbeats " + std::to_string(index);
    client_options.send_immediately = false;  // many small publishes per write
    clients_.push_back(std::make_unique<nats::NatsClient>(client_options));
  }
  nats::NatsClientOptions responder_options;
  responder_options.url = options_.url;
  responder_options.name = "edge-fleet-load responder";
  responder_ = std::make_unique<nats::NatsClient>(responder_options);
  nats::NatsClient& responder = *responder_;
  subscriptions_.push_back(responder.subscribe(
      subjects_.inventory("*"), [this, &responder](const nats::Message& message) {
        ++inventory_requests_;
        const std::string prefix = "edge." + options_.cluster + ".inv.";
        const std::optional<std::string> node =
            fleet::id_of_token(message.subject.substr(prefix.size()));
        if (!node || message.reply_subject.empty()) return;
        Inventory inventory = inventory_of(*node, boot_id_);
        responder.respond(message.reply_subject, fleet::encode(inventory));
      }));
  subscriptions_.push_back(
      responder.subscribe(subjects_.invoke("*"), [&responder](const nats::Message& message) {
        if (message.reply_subject.empty()) return;
        try {
          const CallRequest call = fleet::decode_call(message.payload);
          responder.respond(message.reply_subject,
                            fleet::encode_call_result({std::string(call.input), false, 0}));
        } catch (const std::exception& error) {
          responder.respond(message.reply_subject,
                            fleet::encode_call_failure(CallOutcome::Error, error.what()));
        }
      }));
  responder.flush(std::chrono::seconds(5));
}

SimulatedFleet::~SimulatedFleet() = default;

std::size_t SimulatedFleet::beat(const std::function<bool(std::size_t)>& include) {
  std::size_t sent = 0;
  HeartbeatMessage message;
  message.boot_id = boot_id_;
  message.usage.cpu_percent = 20;
  message.usage.memory_mb = 100;
  message.usage.memory_max_mb = 1024;
  for (std::size_t index = 0; index < ids_.size(); ++index) {
    if (include && !include(index)) continue;
    message.node_id = ids_[index];
    message.sequence = ++sequences_[index];
    message.inventory_digest = digests_[index];
    clients_[index % clients_.size()]->publish(subjects_of_[index], fleet::encode(message));
    ++sent;
  }
  return sent;
}

void SimulatedFleet::flush() {
  for (const auto& client : clients_) client->flush(std::chrono::seconds(10));
}

}  // namespace edge::fleet_load
