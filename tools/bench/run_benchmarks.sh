#!/usr/bin/env bash
# Builds the benchmarks (Release), runs every program with repetitions and
# rewrites BENCHMARKS.md at the repository root from the medians.
#
# Usage: run_benchmarks.sh [program...]
#   With program names (e.g. bench_cluster), runs only those and keeps the
#   other programs' results from their last run; the report gives each
#   program's date and load average.
#
# Environment knobs:
#   EDGE_BENCH_BUILD_DIR    build directory (default: <repo>/build-bench)
#   EDGE_BENCH_REPETITIONS  repetitions per benchmark (default: 5)
#   EDGE_BENCH_MIN_TIME     --benchmark_min_time in seconds (default: 0.5)
#   EDGE_BENCH_MAX_LOAD     wait before each program until the 1-minute load
#                           average is below this (default: 0.5) and the CPUs
#                           were at least 90 % idle over 3 seconds
#   EDGE_BENCH_MAX_WAIT     give up waiting after this many seconds in total
#                           and run anyway, saying so (default: 600)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${EDGE_BENCH_BUILD_DIR:-$repo/build-bench}
repetitions=${EDGE_BENCH_REPETITIONS:-5}
min_time=${EDGE_BENCH_MIN_TIME:-0.5}
max_load=${EDGE_BENCH_MAX_LOAD:-0.5}
max_wait=${EDGE_BENCH_MAX_WAIT:-600}
results=$build/bench-results
all_programs=(bench_invoke bench_cold_start bench_cluster bench_memory bench_primitives bench_sandbox)
if (($# > 0)); then
  programs=("$@")
  for program in "${programs[@]}"; do
    [[ " ${all_programs[*]} " == *" $program "* ]] || { echo "run_benchmarks: unknown program $program" >&2; exit 2; }
  done
else
  programs=("${all_programs[@]}")
fi

cmake -S "$repo" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DEDGE_BUILD_TESTS=OFF -DEDGE_BUILD_BENCHMARKS=ON >/dev/null
cmake --build "$build" --target edge_benchmarks edge_example_plugins

load1() { cut -d' ' -f1 /proc/loadavg; }
# Percentage of CPU time idle over the next 3 seconds, all CPUs together (the
# load average lags by a minute; a compile burst elsewhere shows here at once).
idle_percent() {
  local before after
  before=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  sleep 3
  after=$(awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat)
  awk -v b="$before" -v a="$after" 'BEGIN { split(b, x, " "); split(a, y, " ");
    total = y[2] - x[2]; print (total > 0 ? int(100 * (y[1] - x[1]) / total) : 100) }'
}
busy() {
  awk -v load="$(load1)" -v max="$max_load" 'BEGIN { exit !(load >= max) }' ||
    (($(idle_percent) < 90))
}
waited=0
wait_for_quiet() {
  while busy; do
    if ((waited >= max_wait)); then
      echo "run_benchmarks: load average still $(load1) after ${waited}s of waiting; running anyway" >&2
      return
    fi
    sleep 10
    waited=$((waited + 10))
  done
}

mkdir -p "$results"
for program in "${programs[@]}"; do
  wait_for_quiet
  echo "== $program (load average $(load1))"
  "$build/tools/bench/$program" \
    --benchmark_repetitions="$repetitions" \
    --benchmark_report_aggregates_only=true \
    --benchmark_min_time="$min_time" \
    --benchmark_out="$results/$program.json" \
    --benchmark_out_format=json
done

cxx=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
build_type=$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' "$build/CMakeCache.txt")
cxx_flags=$(sed -n "s/^CMAKE_CXX_FLAGS_${build_type^^}:[A-Z]*=//p" "$build/CMakeCache.txt")
memory_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
machine=$results/machine.txt
{
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), $(nproc) CPUs online ($(lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor:[[:space:]]*/virtualised, /p'))"
  echo "Memory: $((memory_kib / 1024 / 1024)) GiB"
  echo "Kernel: $(uname -srm)"
  echo "Clock source: $(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null || echo unknown)"
  echo "Compiler: $("$cxx" --version | head -1), CMAKE_BUILD_TYPE=$build_type ($cxx_flags)"
  echo "glibc: $(ldd --version | head -1 | sed 's/.* //')"
  echo "Google Benchmark: $(pkg-config --modversion benchmark 2>/dev/null || echo unknown)"
  echo "Source: $(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo 'no commit yet') ($(git -C "$repo" status --porcelain 2>/dev/null | wc -l) paths changed or untracked)"
} >"$machine"

python3 "$repo/tools/bench/make_report.py" --results "$results" --machine "$machine" \
  --output "$repo/BENCHMARKS.md" --repetitions "$repetitions" --min-time "$min_time"
