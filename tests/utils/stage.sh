#!/usr/bin/env bash
# Run one test stage, record its outcome under build/results/ and never stop the caller:
# `make test` runs every stage, then tests/utils/summary.py prints the totals and sets the exit code.
set -uo pipefail
name="$1"; shift
results="${RESULTS_DIR:-build/results}"
mkdir -p "$results"
rm -f "$results/$name".{ok,failed}
echo "=== stage $name: $*"
start=$(date +%s)
if "$@"; then outcome=ok; else outcome=failed; fi
echo "$(( $(date +%s) - start ))" > "$results/$name.$outcome"
echo "=== stage $name: $outcome in $(cat "$results/$name.$outcome") s"
