#!/usr/bin/env bash
# Run one test stage, record its outcome under build/results/ and never stop the caller:
# `make test` runs every stage, then tests/utils/summary.py prints the totals and sets the exit code.
set -uo pipefail
name="$1"; shift
results="${RESULTS_DIR:-build/results}"
mkdir -p "$results"
rm -f "$results/$name".{ok,failed,cpu}
echo "=== stage $name: $*"
# The stage's CPU seconds (user + system of the finished children), from bash's `times`: its second line. `times`
# must run in this shell, not in a $(...) subshell, whose children are not the stage's.
times_file="$results/.$name.times"
start=$(date +%s)
times > "$times_file"
if "$@"; then outcome=ok; else outcome=failed; fi
times >> "$times_file"
echo "$(( $(date +%s) - start ))" > "$results/$name.$outcome"
awk 'NR % 2 == 0 { cpu = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); cpu += t[1] * 60 + t[2] } seen[NR] = cpu }
     END { printf "%.0f\n", seen[4] - seen[2] }' "$times_file" > "$results/$name.cpu"
rm -f "$times_file"
echo "=== stage $name: $outcome in $(cat "$results/$name.$outcome") s ($(cat "$results/$name.cpu") CPU-s)"
