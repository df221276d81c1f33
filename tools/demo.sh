#!/usr/bin/env bash
# The demo: a few one-shot invocations through the cluster described by
# config/demo.yaml, then edge-host running as a daemon until Ctrl-C.
# Usage: tools/demo.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
host="$build/host/edge-host"
config=config/demo.yaml
plugins="$build/plugins"

run() {
  printf '\n$ edge-host --config %s %s\n' "$config" "$*"
  "$host" --config "$config" --plugin-dir "$plugins" "$@" || true
}

"$host" --config "$config" --plugin-dir "$plugins" --check
run --invoke echo --input "hello from the edge"
run --invoke sensor-stats --input $'press-1,20.5\npress-1,21.5\noven-2,180\n'
run --invoke site-config --input SITE
run --invoke always-fails
printf '\n$ edge-host --config %s   (Ctrl-C to stop)\n' "$config"
exec "$host" --config "$config" --plugin-dir "$plugins"
