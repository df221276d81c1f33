// What the benchmarks over NATS share: one real nats-server for the whole run
// (the tests' NatsServerProcess), started on first use and killed and
// reaped at exit, and client options for it.
#pragma once

#include "nats/nats_client.hpp"

#include <string>

#include "nats_server.hpp"

namespace edge::bench {

inline test::NatsServerProcess& nats_server() {
  static test::NatsServerProcess instance;
  return instance;
}

inline nats::NatsClientOptions client_options(const std::string& name) {
  nats::NatsClientOptions options;
  options.url = nats_server().url();
  options.name = name;
  return options;
}

}  // namespace edge::bench
