#!/usr/bin/env bash
# tools/fuzz.sh [BUILD_DIR] [SECONDS]: configures and builds the libFuzzer
# targets (tests/fuzz, clang, EDGE_FUZZ=ON) in BUILD_DIR (default build-fuzz),
# then runs each for SECONDS (default 60) over a scratch copy of its seed
# corpus, so that runs never write into the source tree. Fails on any crash,
# hang (-timeout), leak or out-of-memory; the input that caused it is kept in
# the scratch directory, whose path is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build-fuzz}
seconds=${2:-60}

export CC=${CC:-clang} CXX=${CXX:-clang++}
cmake -S . -B "$build_dir" -G Ninja -DEDGE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DEDGE_BUILD_TESTS=OFF -DEDGE_BUILD_BENCHMARKS=OFF -DEDGE_BUILD_RUST_PLUGIN=OFF
cmake --build "$build_dir" -j "$(nproc)" --target edge_fuzzers

scratch=$(mktemp -d "${TMPDIR:-/tmp}/edge-fuzz.XXXXXX")
echo "fuzz: scratch directory $scratch"
failed=()
for target in frame descriptor topology http; do
  corpus=$scratch/$target/corpus
  artifacts=$scratch/$target/artifacts
  mkdir -p "$corpus" "$artifacts"
  cp tests/fuzz/corpus/$target/* "$corpus/"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
           -artifact_prefix="$artifacts/")
  if [[ -f tests/fuzz/$target.dict ]]; then options+=(-dict="tests/fuzz/$target.dict"); fi
  # yaml-cpp's scanner is slow on long inputs: a topology file is small.
  if [[ $target == topology ]]; then options+=(-max_len=4096); fi
  echo "fuzz: $target for $seconds s"
  if ! "$build_dir/tests/fuzz/fuzz_$target" "${options[@]}" "$corpus" >"$scratch/$target/log" 2>&1; then
    failed+=("$target")
    tail -n 60 "$scratch/$target/log"
    echo "fuzz: $target FAILED; input and log in $scratch/$target" >&2
  else
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec)|DONE' "$scratch/$target/log" || true
  fi
done

if ((${#failed[@]} > 0)); then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
rm -rf "$scratch"
echo "fuzz: all targets ran $seconds s without a crash"
