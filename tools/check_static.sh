#!/usr/bin/env bash
# cppcheck over the host, the worker, the SDK and the tools (CI runs it).
# Every finding fails; a finding that is wrong carries an inline
# "cppcheck-suppress <id>" with the reason on the line above.
set -euo pipefail
cd "$(dirname "$0")/.."
cppcheck --enable=warning,performance,portability --std=c++20 --quiet --inline-suppr \
  --error-exitcode=1 --suppress=missingIncludeSystem \
  -I host/include -I host/src -I sdk/include \
  host/src host/worker host/app sdk tools/edgectl tools/edge-sign
echo "check_static: cppcheck found nothing"
