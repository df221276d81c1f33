// edge-worker: the zygote that edge-host starts to run process-isolated
// functions (docs/sandbox.md). Not meant to be run by hand.
#include "zygote_loop.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

namespace {

bool is_socket(int descriptor) {
  struct stat status {};
  return ::fstat(descriptor, &status) == 0 && S_ISSOCK(status.st_mode);
}

}  // namespace

int main(int argc, char** argv) {
  // edge-host passes the request socket as fd 3 and the event socket as fd 4.
  if (argc == 2 && std::strcmp(argv[1], "--zygote") == 0 && is_socket(3) && is_socket(4)) {
    return edge::worker::run_zygote(3, 4);
  }
  std::fprintf(stderr,
               "edge-worker runs process-isolated edge functions for edge-host, which starts it;\n"
               "it is not meant to be run by hand (see docs/sandbox.md).\n");
  return 2;
}
