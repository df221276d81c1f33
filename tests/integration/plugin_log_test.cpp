// A plugin's own log lines (the SDK's log callback) come out through the
// host's structured logger: with --log-format json, one JSON object per
// line, tagged with the function.
#include "host_process.hpp"
#include "http_client.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <sstream>
#include <string>

namespace edge::test {

TEST_CASE("plugin log lines are structured log lines naming the function") {
  HostProcess host("nodes:\n  - id: node-a\nfunctions:\n  - {id: stats, plugin: sensor_stats}\n",
                   {"--log-format", "json", "--log-level", "info"});
  {
    HttpConnection connection("127.0.0.1", host.port());
    CHECK(connection.request("POST", "/v1/functions/stats/invoke", "a,1\nb,2\n").status == 200);
  }
  CHECK(host.stop(SIGTERM).code == 0);
  bool found = false;
  std::istringstream lines(host.process().errors());
  for (std::string line; std::getline(lines, line);) {
    INFO("stderr line: " << line);
    const nlohmann::json entry = nlohmann::json::parse(line);  // every line is JSON
    if (entry.value("source", "") == "plugin") {
      CHECK(entry["function"] == "stats");
      CHECK(entry["msg"] == "aggregated 2 readings from 2 sensors");
      found = true;
    }
  }
  CHECK(found);
}

}  // namespace edge::test
