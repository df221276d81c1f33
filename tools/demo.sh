#!/usr/bin/env bash
# The demo: edge-host runs the cluster of config/demo.yaml as a daemon, and
# edgectl drives it over the HTTP API: nodes, functions, a few invocations,
# a placement plan, a drain and a resume. The daemon then keeps running in
# the foreground until Ctrl-C.
# Usage: tools/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
host="$build/host/edge-host"
edgectl="$build/tools/edgectl/edgectl"
config=config/demo.yaml
plugins="$build/plugins"

"$host" --config "$config" --plugin-dir "$plugins" --check

# Port 0: the host picks a free port and prints it.
output=$(mktemp)
"$host" --config "$config" --plugin-dir "$plugins" --listen 127.0.0.1:0 --log-level warn >"$output" &
host_pid=$!
trap 'kill "$host_pid" 2>/dev/null || true; rm -f "$output"' EXIT
for _ in $(seq 100); do
  grep -q '^listening on ' "$output" && break
  kill -0 "$host_pid" 2>/dev/null || { cat "$output"; exit 1; }
  sleep 0.1
done
cat "$output"
export EDGE_SERVER="http://$(sed -n 's/^listening on //p' "$output")"

step() {
  printf '\n$ edgectl %s\n' "$*"
  "$edgectl" "$@" || true
}
step nodes
step functions
step invoke echo --input "hello from the edge"
step invoke sensor-stats --input $'press-1,20.5\npress-1,21.5\noven-2,180'
step invoke site-config --input SITE
step invoke always-fails
step invoke untrusted --input segv
step invoke untrusted --input hello
step function untrusted
step plan infer --plugin echo --capability gpu --placement least_loaded
step drain gw-hall-a
step functions
step resume gw-hall-a
step health

printf '\nedge-host is running at %s (Ctrl-C to stop)\n' "$EDGE_SERVER"
wait "$host_pid"
