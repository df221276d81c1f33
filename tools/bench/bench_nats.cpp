// The NATS transport's floor on loopback, through a real nats-server started
// by this program (the tests' NatsServerProcess): what a remote invoke routed
// by a controller pays before any plugin runs. Its p50 bounds how much of the
// cluster's remote-invoke budget is left for everything else.
//
//   BM_Nats_Publish           a publish: the client's own cost, no round trip
//                             (the baseline); a write per publish, or batched.
//   BM_Nats_PublishFlush      a publish and a flush: one round trip to the
//                             server (PING/PONG), no subscriber.
//   BM_Nats_RequestReply      a request answered by a responder on another
//                             connection of this process: requester -> server
//                             -> responder -> server -> requester. With
//                             send_immediately=0 the responder's replies wait
//                             for libnats' batching flusher (1 ms).
//   BM_Nats_HeartbeatIngest   heartbeats of 1,000 simulated nodes (one
//                             batching connection) through the server to one
//                             subscriber that decodes each and records it in
//                             an EdgeCluster of 1,000 nodes: the controller's
//                             ingest path (issue 6's target: >= 50,000/s).
//                             decode=0 only counts them (the baseline: what
//                             the transport alone carries).
//   BM_Nats_ArtifactSync      a 5 MB plugin fetched by 100 simulated nodes
//                             (a connection each, 4 fetching at a time) from
//                             one holder, in chunks, each copy verified (MD5
//                             and SHA-256): time until all hold it. Beside
//                             it, BM_Nats_ArtifactVerifyOnly: the same 100
//                             verifications of bytes already in memory.
// The first argument is the payload size in bytes. Round-trip benchmarks report
// p50/p99 (µs) over every iteration.
#include "fleet/artifact_transfer.hpp"
#include "fleet/heartbeat_message.hpp"
#include "nats/nats_client.hpp"

#include <edge/cluster.hpp>

#include "percentile.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "nats_bench_support.hpp"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

void report_latencies(benchmark::State& state, const std::vector<double>& latencies_us) {
  state.counters["p50_us"] = edge::bench::percentile(latencies_us, 0.50);
  state.counters["p99_us"] = edge::bench::percentile(latencies_us, 0.99);
  state.SetItemsProcessed(state.iterations());
}

// state.range(1): send_immediately (1, the default: a write per publish) or 0
// (libnats batches writes).
void BM_Nats_Publish(benchmark::State& state) {
  try {
    edge::nats::NatsClientOptions publisher_options =
        edge::bench::client_options("bench-publisher");
    publisher_options.send_immediately = state.range(1) != 0;
    edge::nats::NatsClient client(publisher_options);
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    for (auto _ : state) client.publish("bench.sink", payload);
    client.flush(10s);  // everything reached the server before the next benchmark
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * state.range(0));
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

void BM_Nats_PublishFlush(benchmark::State& state) {
  try {
    edge::nats::NatsClient client(edge::bench::client_options("bench-flusher"));
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    std::vector<double> latencies_us;
    for (auto _ : state) {
      const Clock::time_point start = Clock::now();
      client.publish("bench.sink", payload);
      client.flush(5s);
      const std::chrono::duration<double> elapsed = Clock::now() - start;
      state.SetIterationTime(elapsed.count());
      latencies_us.push_back(elapsed.count() * 1e6);
    }
    report_latencies(state, latencies_us);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

// state.range(1): the responder's send_immediately (1, the default) or 0.
void BM_Nats_RequestReply(benchmark::State& state) {
  try {
    edge::nats::NatsClientOptions responder_options =
        edge::bench::client_options("bench-responder");
    responder_options.send_immediately = state.range(1) != 0;
    edge::nats::NatsClient responder_client(responder_options);
    edge::nats::NatsClient client(edge::bench::client_options("bench-requester"));
    edge::nats::Subscription responder =
        responder_client.subscribe("bench.echo", [&](const edge::nats::Message& message) {
          responder_client.respond(message.reply_subject, message.payload);
        });
    responder_client.flush(5s);
    const std::string payload(static_cast<std::size_t>(state.range(0)), 'x');
    (void)client.request("bench.echo", payload, 5s);  // creates the shared reply subscription

    std::vector<double> latencies_us;
    for (auto _ : state) {
      const Clock::time_point start = Clock::now();
      const std::string reply = client.request("bench.echo", payload, 5s);
      const std::chrono::duration<double> elapsed = Clock::now() - start;
      state.SetIterationTime(elapsed.count());
      latencies_us.push_back(elapsed.count() * 1e6);
      if (reply.size() != payload.size()) {
        state.SkipWithError("the reply is not the request's payload");
        break;
      }
    }
    report_latencies(state, latencies_us);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

// state.range(0): simulated nodes; state.range(1): decode and record (1) or
// only count (0). An iteration publishes one heartbeat per node and waits
// until the subscriber has taken them all (so that nothing queues beyond
// libnats' pending limits).
void BM_Nats_HeartbeatIngest(benchmark::State& state) {
  try {
    const auto nodes = static_cast<std::size_t>(state.range(0));
    const bool decode = state.range(1) != 0;
    edge::EdgeCluster cluster;
    std::vector<std::string> payloads;
    payloads.reserve(nodes);
    for (std::size_t i = 0; i < nodes; ++i) {
      edge::fleet::HeartbeatMessage message;
      message.node_id = "node-" + std::to_string(i);
      message.boot_id = "b00t";
      message.sequence = 1;
      message.usage.cpu_percent = static_cast<double>(i % 80);
      message.usage.memory_mb = 256;
      message.usage.memory_max_mb = 1024;
      message.inventory_digest = std::string(64, '0');
      cluster.register_node(edge::EdgeNode(message.node_id));
      payloads.push_back(edge::fleet::encode(message));
    }

    std::atomic<std::uint64_t> taken{0};
    std::atomic<std::uint64_t> refused{0};
    edge::nats::NatsClient controller(edge::bench::client_options("bench-controller"));
    edge::nats::Subscription heartbeats =
        controller.subscribe("bench.hb.*", [&](const edge::nats::Message& message) {
          if (decode) {
            try {
              const edge::fleet::HeartbeatMessage heartbeat =
                  edge::fleet::decode_heartbeat(message.payload);
              cluster.heartbeat(heartbeat.node_id, heartbeat.usage);
            } catch (const std::exception&) {
              refused.fetch_add(1, std::memory_order_relaxed);
            }
          }
          taken.fetch_add(1, std::memory_order_release);
        });
    controller.flush(5s);

    edge::nats::NatsClientOptions simulator_options = edge::bench::client_options("bench-nodes");
    simulator_options.send_immediately = false;  // many nodes on one connection: batch
    edge::nats::NatsClient simulator(simulator_options);
    std::vector<std::string> subjects;
    subjects.reserve(nodes);
    for (std::size_t i = 0; i < nodes; ++i)
      subjects.push_back("bench.hb.node-" + std::to_string(i));

    std::uint64_t sent = 0;
    for (auto _ : state) {
      for (std::size_t i = 0; i < nodes; ++i) simulator.publish(subjects[i], payloads[i]);
      simulator.flush(10s);
      sent += nodes;
      const Clock::time_point deadline = Clock::now() + 10s;
      while (taken.load(std::memory_order_acquire) < sent) {
        if (Clock::now() > deadline) {
          state.SkipWithError("heartbeats were lost on the way (a slow consumer?)");
          return;
        }
        std::this_thread::sleep_for(50us);  // leave the cores to the server and subscriber
      }
    }
    if (refused.load() != 0) state.SkipWithError("the controller refused heartbeats");
    state.SetItemsProcessed(static_cast<std::int64_t>(sent));
    state.counters["heartbeats_per_s"] =
        benchmark::Counter(static_cast<double>(sent), benchmark::Counter::kIsRate);
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

// A plugin-sized artifact: 5 MB of bytes that differ from chunk to chunk.
std::string artifact_of(std::size_t megabytes) {
  std::string bytes(megabytes * 1000 * 1000, '\0');
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>((i * 131) % 251);
  return bytes;
}

// state.range(0): nodes; state.range(1): megabytes.
void BM_Nats_ArtifactSync(benchmark::State& state) {
  try {
    const auto nodes = static_cast<std::size_t>(state.range(0));
    const std::string bytes = artifact_of(static_cast<std::size_t>(state.range(1)));
    const edge::fleet::ArtifactManifest manifest =
        edge::fleet::manifest_of(edge::SyncState::from_data(bytes, 1));
    const std::filesystem::path file =
        std::filesystem::temp_directory_path() / ("edge-bench-artifact-" + manifest.sha256);
    std::ofstream(file, std::ios::binary) << bytes;

    const edge::fleet::Subjects subjects("bench");
    edge::nats::NatsClient holder_client(edge::bench::client_options("bench-holder"));
    const edge::fleet::ArtifactServer holder(holder_client, subjects, [&](std::string_view sha) {
      return sha == manifest.sha256 ? std::optional(file) : std::nullopt;
    });
    holder_client.flush(5s);
    std::vector<std::unique_ptr<edge::nats::NatsClient>> node_clients;
    for (std::size_t i = 0; i < nodes; ++i) {
      node_clients.push_back(std::make_unique<edge::nats::NatsClient>(
          edge::bench::client_options("bench-node-" + std::to_string(i))));
    }

    constexpr std::size_t kFetchers = 4;
    std::atomic<std::size_t> failures{0};
    for (auto _ : state) {
      std::atomic<std::size_t> next{0};
      std::vector<std::thread> fetchers;
      fetchers.reserve(kFetchers);
      for (std::size_t f = 0; f < kFetchers; ++f) {
        fetchers.emplace_back([&] {
          for (std::size_t i = next++; i < nodes; i = next++) {
            try {
              if (edge::fleet::fetch_artifact(*node_clients[i], subjects, manifest).size() !=
                  bytes.size())
                failures.fetch_add(1);
            } catch (const std::exception&) {
              failures.fetch_add(1);
            }
          }
        });
      }
      for (std::thread& fetcher : fetchers) fetcher.join();
    }
    std::filesystem::remove(file);
    if (failures.load() != 0) state.SkipWithError("some nodes did not get a verified copy");
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(nodes * bytes.size()));
  } catch (const std::exception& error) {
    state.SkipWithError(error.what());
  }
}

void BM_Nats_ArtifactVerifyOnly(benchmark::State& state) {
  const auto nodes = static_cast<std::size_t>(state.range(0));
  const edge::SyncState payload =
      edge::SyncState::from_data(artifact_of(static_cast<std::size_t>(state.range(1))), 1);
  const std::string sha256 = edge::fleet::manifest_of(payload).sha256;
  for (auto _ : state) {
    for (std::size_t i = 0; i < nodes; ++i) {
      // What fetch_artifact checks once the bytes are in: MD5, then SHA-256.
      const bool verified = payload.verify() && edge::fleet::manifest_of(payload).sha256 == sha256;
      benchmark::DoNotOptimize(verified);
    }
  }
  state.SetBytesProcessed(state.iterations() *
                          static_cast<std::int64_t>(nodes * payload.data.size()));
}

}  // namespace

BENCHMARK(BM_Nats_ArtifactSync)
    ->ArgNames({"nodes", "mb"})
    ->Args({100, 5})
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Nats_ArtifactVerifyOnly)
    ->ArgNames({"nodes", "mb"})
    ->Args({100, 5})
    ->Iterations(3)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Nats_HeartbeatIngest)
    ->ArgNames({"nodes", "decode"})
    ->Args({1000, 0})
    ->Args({1000, 1})
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Nats_Publish)
    ->ArgNames({"bytes", "send_immediately"})
    ->Args({16, 1})
    ->Args({4096, 1})
    ->Args({16, 0})
    ->Args({4096, 0});
BENCHMARK(BM_Nats_PublishFlush)->Arg(16)->UseManualTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_Nats_RequestReply)
    ->ArgNames({"bytes", "send_immediately"})
    ->Args({16, 1})
    ->Args({4096, 1})
    ->Args({16, 0})
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
