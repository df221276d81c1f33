/* The per-request process of the CGI / classic-watchdog model, for the
 * cold-start comparison: copies stdin to stdout until end of input, like the
 * echo plugin returns its input. Deliberately minimal (no stdio buffering). */
#include <errno.h>
#include <unistd.h>

int main(void) {
  char buffer[4096];
  for (;;) {
    ssize_t got = read(STDIN_FILENO, buffer, sizeof buffer);
    if (got == 0) return 0;
    if (got < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (ssize_t sent = 0; sent < got;) {
      ssize_t wrote = write(STDOUT_FILENO, buffer + sent, (size_t)(got - sent));
      if (wrote < 0) {
        if (errno == EINTR) continue;
        return 1;
      }
      sent += wrote;
    }
  }
}
