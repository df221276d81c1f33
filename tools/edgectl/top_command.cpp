// top: a table of the functions, refreshed every --interval seconds. Rates
// (calls/s, errors/s) are the difference between two successive readings
// divided by the time between them, so the first frame has none.
#include "commands.hpp"
#include "format.hpp"
#include "table.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <map>
#include <optional>
#include <ostream>
#include <thread>

namespace edgectl {
namespace {

using Clock = std::chrono::steady_clock;

struct FunctionReading {
  std::string id;
  std::size_t nodes = 0;
  bool pending = false;
  std::uint64_t invocations = 0;
  std::uint64_t errors = 0;
  std::uint64_t cold_starts = 0;
  std::int64_t in_flight = 0;
  // Percentiles of the slowest node: per-node percentiles cannot be merged
  // exactly, and the worst node is the one to look at.
  double p50_ms = 0;
  double p99_ms = 0;
};

struct Reading {
  Clock::time_point at;
  std::map<std::string, FunctionReading> functions;
};

template <typename T>
T number(const Json& object, const char* key) {
  const auto found = object.find(key);
  return found != object.end() && found->is_number() ? found->get<T>() : T{};
}

Reading take_reading(const ApiClient& api) {
  Reading reading;
  const Json list = api.get("/v1/functions");
  for (const Json& summary : list.value("functions", Json::array())) {
    const std::string id = summary.value("id", "");
    Json detail;
    try {
      detail = api.get(function_path(id));
    } catch (const ServerError& error) {
      if (error.status() == 404) continue;  // removed since the list was read
      throw;
    }
    FunctionReading function;
    function.id = id;
    function.nodes = detail.value("nodes", Json::array()).size();
    function.pending = detail.value("pending", false);
    function.invocations = number<std::uint64_t>(detail, "invocations");
    function.errors = number<std::uint64_t>(detail, "errors");
    function.cold_starts = number<std::uint64_t>(detail, "cold_starts");
    const Json stats_by_node = detail.value("stats", Json::object());
    for (const auto& [node, stats] : stats_by_node.items()) {
      function.in_flight += number<std::int64_t>(stats, "in_flight");
      function.p50_ms = std::max(function.p50_ms, number<double>(stats, "p50_ms"));
      function.p99_ms = std::max(function.p99_ms, number<double>(stats, "p99_ms"));
    }
    reading.functions.emplace(id, std::move(function));
  }
  reading.at = Clock::now();
  return reading;
}

// Per second between two readings; nullopt without an earlier reading or
// when a counter went down (the function was redeployed on another node).
std::optional<double> rate(std::uint64_t before, std::uint64_t now, double seconds) {
  if (now < before || seconds <= 0) return std::nullopt;
  return static_cast<double>(now - before) / seconds;
}

struct Row {
  const FunctionReading* function;
  std::optional<double> calls_per_second;
  std::optional<double> errors_per_second;
};

std::vector<Row> rows(const Reading& now, const std::optional<Reading>& before) {
  std::vector<Row> result;
  const double seconds = before ? std::chrono::duration<double>(now.at - before->at).count() : 0;
  for (const auto& [id, function] : now.functions) {
    Row row{&function, std::nullopt, std::nullopt};
    if (before) {
      if (const auto previous = before->functions.find(id); previous != before->functions.end()) {
        row.calls_per_second = rate(previous->second.invocations, function.invocations, seconds);
        row.errors_per_second = rate(previous->second.errors, function.errors, seconds);
      }
    }
    result.push_back(row);
  }
  // Busiest first; the first frame (no rates) stays in id order.
  std::stable_sort(result.begin(), result.end(), [](const Row& a, const Row& b) {
    return a.calls_per_second.value_or(-1) > b.calls_per_second.value_or(-1);
  });
  return result;
}

std::string optional_cell(const std::optional<double>& value) {
  return value ? format_number(*value, 1) : "-";
}

// No percentile before the first call ("0" would read as "instant").
std::string latency_cell(const FunctionReading& function, double milliseconds) {
  return function.invocations == 0 ? "-" : format_number(milliseconds, 3);
}

std::string wall_clock_time() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%H:%M:%S", &local);
  return buffer;
}

void print_frame(const Context& context, const std::vector<Row>& frame, double interval_seconds) {
  std::ostream& out = context.out;
  double total_rate = 0;
  bool have_rate = false;
  for (const Row& row : frame) {
    if (row.calls_per_second) {
      total_rate += *row.calls_per_second;
      have_rate = true;
    }
  }
  out << "edgectl top  " << context.api.server().url << "  " << wall_clock_time() << "  every "
      << format_number(interval_seconds, 1) << " s  " << frame.size() << " functions, "
      << (have_rate ? format_number(total_rate, 1) : std::string("-")) << " calls/s\n\n";
  Table table({{"FUNCTION"},
               {"NODES", Table::Align::Right},
               {"CALLS/S", Table::Align::Right},
               {"ERRORS/S", Table::Align::Right},
               {"CALLS", Table::Align::Right},
               {"ERRORS", Table::Align::Right},
               {"P50 MS", Table::Align::Right},
               {"P99 MS", Table::Align::Right},
               {"COLD", Table::Align::Right},
               {"IN FLIGHT", Table::Align::Right}});
  for (const Row& row : frame) {
    const FunctionReading& function = *row.function;
    table.add_row({function.id, function.pending ? "pending" : std::to_string(function.nodes),
                   optional_cell(row.calls_per_second), optional_cell(row.errors_per_second),
                   std::to_string(function.invocations), std::to_string(function.errors),
                   latency_cell(function, function.p50_ms), latency_cell(function, function.p99_ms),
                   std::to_string(function.cold_starts), std::to_string(function.in_flight)});
  }
  table.print(out);
}

// --json: one object per frame on one line (JSON Lines), for scripts.
void print_json_frame(const Context& context, const std::vector<Row>& frame) {
  Json functions = Json::array();
  for (const Row& row : frame) {
    const FunctionReading& function = *row.function;
    functions.push_back(
        {{"id", function.id},
         {"nodes", function.nodes},
         {"pending", function.pending},
         {"calls_per_second", row.calls_per_second ? Json(*row.calls_per_second) : nullptr},
         {"errors_per_second", row.errors_per_second ? Json(*row.errors_per_second) : nullptr},
         {"invocations", function.invocations},
         {"errors", function.errors},
         {"cold_starts", function.cold_starts},
         {"in_flight", function.in_flight},
         {"p50_ms", function.p50_ms},
         {"p99_ms", function.p99_ms}});
  }
  const auto seconds =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  context.out << Json{{"time", seconds}, {"functions", std::move(functions)}}.dump(
                     -1, ' ', false, Json::error_handler_t::replace)
              << std::endl;
}

}  // namespace

int run_top(const Context& context) {
  const double interval = context.line.option("interval")
                              ? positive_number("interval", *context.line.option("interval"))
                              : 2.0;
  const long iterations = context.line.option("iterations")
                              ? whole_number("iterations", *context.line.option("iterations"), 0)
                              : 0;
  // Redraw in place only on a terminal; piped output gets frames one after
  // another, with no escape codes in it.
  const bool redraw = !context.line.json && ::isatty(STDOUT_FILENO);

  std::optional<Reading> previous;
  for (long frame = 0; iterations == 0 || frame < iterations; ++frame) {
    if (frame > 0) {
      const auto next = previous->at + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(interval));
      std::this_thread::sleep_until(next);
    }
    Reading reading = take_reading(context.api);
    const std::vector<Row> frame_rows = rows(reading, previous);
    if (context.line.json) {
      print_json_frame(context, frame_rows);
    } else {
      if (redraw) {
        context.out << "\x1b[H\x1b[2J";  // cursor home, clear screen
      } else if (frame > 0) {
        context.out << "\n";
      }
      print_frame(context, frame_rows, interval);
      context.out.flush();
    }
    previous = std::move(reading);
  }
  return kExitOk;
}

}  // namespace edgectl
