// sensor_stats — a sensor aggregator for a factory gateway.
//
// Input: CSV lines `sensor_id,value` (blank lines and lines starting with '#'
// are skipped; whitespace around fields is ignored; CRLF is accepted).
// Output: one JSON object, sensors in id order, e.g.
//
//   {"count":3,"sensors":{"press-2":{"count":1,"min":1.5,"max":1.5,"mean":1.5},
//                         "temp-1":{"count":2,"min":20,"max":22,"mean":21}}}
//
// A malformed line fails the whole call with an error naming its line number:
// a gateway must not silently publish statistics over partial data.
// The JSON is written by hand to keep the plugin free of dependencies.
#include <edge/sdk.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace {

struct SensorStats {
  std::uint64_t count = 0;
  double min = 0;
  double max = 0;
  double sum = 0;

  void add(double value) {
    min = count == 0 ? value : std::min(min, value);
    max = count == 0 ? value : std::max(max, value);
    sum += value;
    ++count;
  }

  double mean() const { return sum / static_cast<double>(count); }
};

std::string_view trim(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(kSpace);
  return text.substr(first, last - first + 1);
}

[[noreturn]] void malformed(std::size_t line_number, std::string_view line, const char* reason) {
  throw std::invalid_argument("sensor_stats: line " + std::to_string(line_number) + ": " + reason +
                              " (expected 'sensor_id,value', got '" + std::string(line) + "')");
}

double parse_value(std::size_t line_number, std::string_view line, std::string_view field) {
  double value = 0;
  const char* const end = field.data() + field.size();
  const auto [last, error] = std::from_chars(field.data(), end, value);
  if (field.empty() || error != std::errc() || last != end) {
    malformed(line_number, line, "value is not a number");
  }
  if (!std::isfinite(value)) malformed(line_number, line, "value is not finite");
  return value;
}

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  for (const char character : text) {
    const auto byte = static_cast<unsigned char>(character);
    if (character == '"' || character == '\\') {
      out.push_back('\\');
      out.push_back(character);
    } else if (byte < 0x20) {
      static constexpr char kHex[] = "0123456789abcdef";
      out.append("\\u00");
      out.push_back(kHex[byte >> 4]);
      out.push_back(kHex[byte & 0xF]);
    } else {
      out.push_back(character);  // UTF-8 passes through unchanged
    }
  }
  out.push_back('"');
}

// Shortest text that reads back as the same double; always valid JSON
// because only finite values are accepted.
void append_json_number(std::string& out, double value) {
  char buffer[64];
  const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
  if (error != std::errc()) throw std::logic_error("sensor_stats: cannot format a number");
  out.append(buffer, end);
}

std::string sensor_stats_handler(std::string_view input, edge::sdk::Context& context) {
  std::map<std::string, SensorStats, std::less<>> sensors;
  std::uint64_t readings = 0;

  std::size_t line_number = 0;
  std::size_t position = 0;
  while (position < input.size()) {
    const std::size_t newline = input.find('\n', position);
    const std::size_t line_end = newline == std::string_view::npos ? input.size() : newline;
    const std::string_view raw_line = input.substr(position, line_end - position);
    position = line_end + 1;
    ++line_number;

    const std::string_view line = trim(raw_line);
    if (line.empty() || line.front() == '#') continue;

    const std::size_t comma = line.find(',');
    if (comma == std::string_view::npos) malformed(line_number, line, "missing ','");
    const std::string_view id = trim(line.substr(0, comma));
    const std::string_view value_field = trim(line.substr(comma + 1));
    if (id.empty()) malformed(line_number, line, "empty sensor id");
    if (value_field.find(',') != std::string_view::npos) {
      malformed(line_number, line, "too many fields");
    }
    const double value = parse_value(line_number, line, value_field);

    auto found = sensors.find(id);
    if (found == sensors.end()) found = sensors.emplace(std::string(id), SensorStats{}).first;
    found->second.add(value);
    ++readings;
  }

  std::string out;
  out.reserve(32 + sensors.size() * 96);
  out.append("{\"count\":").append(std::to_string(readings)).append(",\"sensors\":{");
  bool first = true;
  for (const auto& [id, stats] : sensors) {
    if (!first) out.push_back(',');
    first = false;
    append_json_string(out, id);
    out.append(":{\"count\":").append(std::to_string(stats.count));
    out.append(",\"min\":");
    append_json_number(out, stats.min);
    out.append(",\"max\":");
    append_json_number(out, stats.max);
    out.append(",\"mean\":");
    // JSON has no infinity: a sum of huge readings must fail, not print "inf".
    if (!std::isfinite(stats.mean())) {
      throw std::range_error("sensor_stats: the sum of sensor '" + id + "' overflows");
    }
    append_json_number(out, stats.mean());
    out.push_back('}');
  }
  out.append("}}");
  // Through the host's log (the SDK's callback), tagged with the function id.
  context.log(EDGE_LOG_INFO, "aggregated " + std::to_string(readings) + " readings from " +
                                 std::to_string(sensors.size()) + " sensors");
  return out;
}

}  // namespace

EDGE_EXPORT_PLUGIN(edge::sdk::describe_function<sensor_stats_handler>(
                       "sensor_stats", "1.0.0",
                       "Aggregates 'sensor_id,value' CSV readings into per-sensor count, min, "
                       "max and mean (JSON)")
                       .memory_mb(64)
                       .timeout_ms(1000))
