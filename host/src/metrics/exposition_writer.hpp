// Writes the Prometheus text exposition format, version 0.0.4: a family's
// # HELP and # TYPE lines once, then its samples; label values escaped;
// numbers as Prometheus parses them (+Inf, -Inf, NaN, shortest round-trip
// decimals).
//
// The writer does not reorder anything: the caller writes each family's
// samples together, right after family(). Not thread-safe; one per page.
#pragma once

#include <edge/stats.hpp>

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace edge::metrics {

enum class MetricType { Counter, Gauge, Histogram };

// A rendered label set, `name="value",...` without braces, escaped once and
// reused for every sample of a series (a histogram has twenty-odd lines).
class Labels {
 public:
  Labels() = default;
  Labels(std::initializer_list<std::pair<std::string_view, std::string_view>> pairs);
  // A copy with one more label (e.g. outcome="error" on a function's labels).
  Labels with(std::string_view name, std::string_view value) const;
  const std::string& text() const noexcept { return text_; }

 private:
  void add(std::string_view name, std::string_view value);
  std::string text_;
};

class ExpositionWriter {
 public:
  // Starts a family: its # HELP and # TYPE lines. Each name may start only
  // once per page (asserted: two blocks of one family is invalid exposition).
  void family(std::string_view name, MetricType type, std::string_view help);

  // One sample of the current family. `name` is the family's name (or, for
  // a histogram, the writer adds the suffixes itself).
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, std::uint64_t value);

  // A histogram's _bucket lines (cumulative, ending with le="+Inf"), _sum
  // and _count. A histogram without an infinite last bound gets one.
  void histogram(std::string_view name, const Labels& labels, const LatencyHistogram& histogram);

  std::string take() { return std::move(out_); }
  // Reserve room up front: a large cluster's page is megabytes.
  void reserve(std::size_t bytes) { out_.reserve(bytes); }

 private:
  void begin_line(std::string_view name, std::string_view suffix, const Labels& labels,
                  std::string_view extra_label = {});

  std::string out_;
  std::string current_family_;
  std::set<std::string, std::less<>> families_;  // started so far
};

// Prometheus' spelling of a number: "+Inf", "-Inf", "NaN", else the shortest
// decimal that reads back as the same double, in %g style like the Go
// client ("0.0001", "5e-05", "1e+06").
void append_number(std::string& out, double value);
void append_number(std::string& out, std::uint64_t value);

// Escapes a label value (\\, \", \n) or HELP text (\\, \n).
void append_label_value(std::string& out, std::string_view value);
void append_help_text(std::string& out, std::string_view text);

}  // namespace edge::metrics
