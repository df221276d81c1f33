#!/usr/bin/env bash
# Fails when a tracked C or C++ file is not formatted as .clang-format says
# (CI runs it first). Fix with: clang-format -i $(git ls-files '*.cpp' '*.hpp' '*.c' '*.h')
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' '*.c' '*.h' | grep -v '^tests/fuzz/corpus/')
clang-format --dry-run --Werror "${files[@]}"
echo "check_format: ${#files[@]} files formatted as .clang-format says"
