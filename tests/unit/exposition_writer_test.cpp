#include "metrics/exposition_writer.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

using namespace edge::metrics;

namespace {

std::string number(double value) {
  std::string out;
  append_number(out, value);
  return out;
}

}  // namespace

TEST_CASE("numbers are written as Prometheus reads them") {
  CHECK(number(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(number(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(number(std::nan("")) == "NaN");
  CHECK(number(3) == "3");
  CHECK(number(0.25) == "0.25");
  CHECK(number(42.5) == "42.5");
  // As the Go client writes them (le label values are compared as strings).
  CHECK(number(0.0001) == "0.0001");
  CHECK(number(0.00005) == "5e-05");
  CHECK(number(1e6) == "1e+06");
  CHECK(std::stod(number(0.1 + 0.2)) == 0.1 + 0.2);
  std::string out;
  append_number(out, std::uint64_t{18446744073709551615U});
  CHECK(out == "18446744073709551615");
}

TEST_CASE(
    "label values escape backslash, double quote and newline; HELP escapes backslash and newline") {
  const Labels labels{{"a", "x\\y\"z\nw"}, {"b", "plain"}};
  CHECK(labels.text() == R"(a="x\\y\"z\nw",b="plain")");
  CHECK(labels.with("c", "1").text() == R"(a="x\\y\"z\nw",b="plain",c="1")");

  ExpositionWriter writer;
  writer.family("m", MetricType::Gauge, "Line one\\\nline \"two\"");
  CHECK(writer.take() == "# HELP m Line one\\\\\\nline \"two\"\n# TYPE m gauge\n");
}

TEST_CASE("samples with and without labels") {
  ExpositionWriter writer;
  writer.family("calls_total", MetricType::Counter, "Calls.");
  writer.sample("calls_total", Labels{}, std::uint64_t{7});
  writer.sample("calls_total", Labels{{"node", "n"}}, 1.5);
  CHECK(writer.take() ==
        "# HELP calls_total Calls.\n# TYPE calls_total counter\ncalls_total "
        "7\ncalls_total{node=\"n\"} 1.5\n");
}

TEST_CASE("histograms: cumulative buckets, +Inf, _sum and _count") {
  edge::LatencyHistogram histogram;
  histogram.upper_bounds_seconds = {0.5, 1, std::numeric_limits<double>::infinity()};
  histogram.cumulative_counts = {1, 3, 4};
  histogram.sum_seconds = 2.75;
  histogram.count = 4;
  ExpositionWriter writer;
  writer.family("d_seconds", MetricType::Histogram, "D.");
  writer.histogram("d_seconds", Labels{{"f", "x"}}, histogram);
  CHECK(writer.take() ==
        "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
        "d_seconds_bucket{f=\"x\",le=\"0.5\"} 1\n"
        "d_seconds_bucket{f=\"x\",le=\"1\"} 3\n"
        "d_seconds_bucket{f=\"x\",le=\"+Inf\"} 4\n"
        "d_seconds_sum{f=\"x\"} 2.75\n"
        "d_seconds_count{f=\"x\"} 4\n");
}

TEST_CASE("a histogram without an infinite bound still gets le=\"+Inf\"") {
  edge::LatencyHistogram empty;  // what a default FunctionStats holds
  ExpositionWriter writer;
  writer.family("d_seconds", MetricType::Histogram, "D.");
  writer.histogram("d_seconds", Labels{}, empty);
  CHECK(writer.take() ==
        "# HELP d_seconds D.\n# TYPE d_seconds histogram\n"
        "d_seconds_bucket{le=\"+Inf\"} 0\nd_seconds_sum 0\nd_seconds_count 0\n");
}
