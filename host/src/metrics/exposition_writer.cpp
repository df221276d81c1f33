#include "metrics/exposition_writer.hpp"

#include <array>
#include <cassert>
#include <charconv>
#include <cmath>
#include <string>

namespace edge::metrics {
namespace {

// Metric and label names are this file's callers' constants, never user
// input, so a bad one is a bug: asserted, not escaped.
[[maybe_unused]] bool is_metric_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
    const bool digit = c >= '0' && c <= '9';
    if (!(letter || (i > 0 && digit))) return false;
  }
  return true;
}

[[maybe_unused]] bool is_label_name(std::string_view name) {
  return is_metric_name(name) && name.find(':') == std::string_view::npos &&
         !name.starts_with("__");
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Gauge:
      return "gauge";
    case MetricType::Histogram:
      return "histogram";
  }
  assert(false && "unknown MetricType");
  return "untyped";
}

}  // namespace

void append_number(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
  } else if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
  } else {
    std::array<char, 32> buffer{};
    // %g-style shortest round trip, as the Go client writes numbers (and so
    // le="0.0001", not "1e-04": dashboards match bucket bounds as strings).
    const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value,
                                            std::chars_format::general);
    assert(error == std::errc() && "32 characters hold any double");
    out.append(buffer.data(), end);
  }
}

void append_number(std::string& out, std::uint64_t value) {
  std::array<char, 24> buffer{};
  const auto [end, error] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  assert(error == std::errc() && "24 characters hold any uint64");
  out.append(buffer.data(), end);
}

void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void append_help_text(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

Labels::Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs) {
  for (const auto& [name, value] : pairs) add(name, value);
}

Labels Labels::with(std::string_view name, std::string_view value) const {
  Labels copy = *this;
  copy.add(name, value);
  return copy;
}

void Labels::add(std::string_view name, std::string_view value) {
  assert(is_label_name(name));
  if (!text_.empty()) text_ += ',';
  text_ += name;
  text_ += "=\"";
  append_label_value(text_, value);
  text_ += '"';
}

void ExpositionWriter::family(std::string_view name, MetricType type, std::string_view help) {
  assert(is_metric_name(name));
  [[maybe_unused]] const bool first_time = families_.emplace(name).second;
  assert(first_time && "a metric family must be written in one block");
  current_family_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_help_text(out_, help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type_name(type);
  out_ += '\n';
}

void ExpositionWriter::begin_line(std::string_view name, std::string_view suffix,
                                  const Labels& labels, std::string_view extra_label) {
  assert(name == current_family_ && "samples follow their family's header");
  out_ += name;
  out_ += suffix;
  if (!labels.text().empty() || !extra_label.empty()) {
    out_ += '{';
    out_ += labels.text();
    if (!labels.text().empty() && !extra_label.empty()) out_ += ',';
    out_ += extra_label;
    out_ += '}';
  }
  out_ += ' ';
}

void ExpositionWriter::sample(std::string_view name, const Labels& labels, double value) {
  begin_line(name, {}, labels);
  append_number(out_, value);
  out_ += '\n';
}

void ExpositionWriter::sample(std::string_view name, const Labels& labels, std::uint64_t value) {
  begin_line(name, {}, labels);
  append_number(out_, value);
  out_ += '\n';
}

void ExpositionWriter::histogram(std::string_view name, const Labels& labels,
                                 const LatencyHistogram& histogram) {
  assert(histogram.upper_bounds_seconds.size() == histogram.cumulative_counts.size());
  std::string le;
  bool wrote_infinity = false;
  for (std::size_t i = 0; i < histogram.upper_bounds_seconds.size(); ++i) {
    const double bound = histogram.upper_bounds_seconds[i];
    le = "le=\"";
    append_number(le, bound);
    le += '"';
    begin_line(name, "_bucket", labels, le);
    append_number(out_, histogram.cumulative_counts[i]);
    out_ += '\n';
    wrote_infinity = std::isinf(bound) && bound > 0;
  }
  // Prometheus requires the +Inf bucket, and it must equal _count.
  if (!wrote_infinity) {
    begin_line(name, "_bucket", labels, "le=\"+Inf\"");
    append_number(out_, histogram.count);
    out_ += '\n';
  }
  begin_line(name, "_sum", labels);
  append_number(out_, histogram.sum_seconds);
  out_ += '\n';
  begin_line(name, "_count", labels);
  append_number(out_, histogram.count);
  out_ += '\n';
}

}  // namespace edge::metrics
