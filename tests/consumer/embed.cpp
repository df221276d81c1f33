// Embeds the host: one runtime, one plugin, one call. Exit 0 only when the
// installed library loads the consumer-built plugin and returns its answer.
#include <edge/runtime.hpp>

#include <iostream>

int main() {
  edge::EdgeRuntime runtime(edge::EdgeNode("consumer-node"));
  edge::EdgeFunction function("shout");
  function.plugin = SHOUT_PLUGIN;
  runtime.deploy(function);
  const std::string output = runtime.invoke("shout", "hello edge");
  std::cout << output << "\n";
  return output == "HELLO EDGE!" ? 0 : 1;
}
