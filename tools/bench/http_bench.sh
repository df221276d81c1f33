#!/usr/bin/env bash
# HTTP benchmark: POST /v1/functions/echo/invoke with a 100-byte body on
# edge-host, beside nginx (one worker) answering a 100-byte static response,
# with the same wrk settings, in one run, on loopback. Client and servers
# share the machine's cores. Prints a Markdown section (stdout) and, with
# --write, replaces the "HTTP" section of BENCHMARKS.md.
# Needs: wrk, nginx (tools/install-deps.sh does not install them: run
#   apt-get install wrk nginx-light). Usage: tools/bench/http_bench.sh [BUILD_DIR] [--write]
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${1:-$repo/build-bench}
write=${2:-}
duration=${EDGE_HTTP_BENCH_SECONDS:-10}
threads=1
connections=32
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cmake --build "$build" --target edge-host edge_example_plugins >/dev/null
body=$(head -c 100 /dev/zero | tr '\0' 'x')
cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = "$body"
LUA

# nginx: one worker, keep-alive, a 100-byte static answer.
mkdir -p "$work/nginx"
printf '%s' "$body" >"$work/nginx/body"
cat >"$work/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18081;
    location / { root $work/nginx; try_files /body =404; default_type application/octet-stream; }
  }
}
NGINX
nginx -c "$work/nginx.conf" &
cat >"$work/topology.yaml" <<YAML
nodes:
  - id: bench-node
functions:
  - {id: echo, plugin: echo}
YAML
"$build/host/edge-host" --config "$work/topology.yaml" --plugin-dir "$build/plugins" \
  --listen 127.0.0.1:18080 --log-level warn >"$work/host.out" &
host_pid=$!
for _ in $(seq 100); do grep -q '^listening on' "$work/host.out" && break; sleep 0.1; done
sleep 0.5
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
idle_rss=$(rss_kib "$host_pid")

run_wrk() {  # URL -> wrk output with latency distribution
  wrk -t"$threads" -c"$connections" -d"${duration}s" --latency -s "$work/post.lua" "$1"
}
# Warm both, then measure each once, nginx first.
wrk -t1 -c4 -d1s -s "$work/post.lua" http://127.0.0.1:18080/v1/functions/echo/invoke >/dev/null
wrk -t1 -c4 -d1s http://127.0.0.1:18081/ >/dev/null
nginx_out=$(wrk -t"$threads" -c"$connections" -d"${duration}s" --latency http://127.0.0.1:18081/)
host_out=$(run_wrk http://127.0.0.1:18080/v1/functions/echo/invoke &
           sleep $((duration / 2)); rss_kib "$host_pid" >"$work/load_rss"; wait)
load_rss=$(cat "$work/load_rss")
check=$(curl -s -X POST --data-binary "$body" http://127.0.0.1:18080/v1/functions/echo/invoke | wc -c)

rps() { sed -n 's/^Requests\/sec:[[:space:]]*//p' <<<"$1"; }
pct() { awk -v p="$2" '$1 == p { print $2 }' <<<"$1"; }
nginx_rps=$(rps "$nginx_out"); host_rps=$(rps "$host_out")
ratio=$(awk -v a="$host_rps" -v b="$nginx_rps" 'BEGIN { printf "%.2f", a / b }')
section=$(cat <<MD
## HTTP (wrk against edge-host and nginx, same run)

$(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs shared by wrk and the server, loopback, keep-alive,
\`wrk -t$threads -c$connections -d${duration}s --latency\`; load average before the run:
$(cut -d' ' -f1-3 /proc/loadavg). edge-host: \`POST /v1/functions/echo/invoke\` with a 100-byte body
(answer checked: $check bytes), access log off (\`--log-level warn\`). nginx: one worker, a
100-byte static file. Produced by \`tools/bench/http_bench.sh\`.

| Server | Requests/s | p50 | p90 | p99 |
|---|---|---|---|---|
| nginx (baseline) | $nginx_rps | $(pct "$nginx_out" 50%) | $(pct "$nginx_out" 90%) | $(pct "$nginx_out" 99%) |
| edge-host | $host_rps | $(pct "$host_out" 50%) | $(pct "$host_out" 90%) | $(pct "$host_out" 99%) |

edge-host / nginx: **${ratio}×** requests/s (target ≥ 0.8×). edge-host RSS: $((idle_rss / 1024)) MiB idle,
$((load_rss / 1024)) MiB under this load.
MD
)
echo "$section"
if [[ $write == --write ]]; then
  python3 - "$repo/BENCHMARKS.md" "$section" <<'PY'
import re, sys
path, section = sys.argv[1], sys.argv[2].strip() + "\n"
text = open(path).read()
pattern = re.compile(r"^## HTTP \(wrk.*?(?=^## |\Z)", re.S | re.M)
text = pattern.sub(section + "\n", text) if pattern.search(text) else text.rstrip() + "\n\n" + section
open(path, "w").write(text)
PY
fi
