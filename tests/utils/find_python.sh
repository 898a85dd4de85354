#!/usr/bin/env bash
# Print the interpreter for a test leg: "latest" wants the newest CPython 3.12+ (ansible-core >= 2.20
# needs it) and falls back to python3; "floor" wants one that ansible-core 2.16 supports (3.10-3.12),
# preferring 3.11 because ansible-test 2.16 pins a pip release that predates Python 3.12; "minimums" wants
# the oldest Python the README claims (3.10: ansible-core 2.16 needs it on the controller, where the modules run).
set -euo pipefail
leg="${1:-latest}"
case "$leg" in
  latest) wanted="3.12 3.13" ;;
  floor) wanted="3.11 3.12 3.10" ;;
  minimums) wanted="3.10" ;;
  # 2.19: the core pip gives a Python 3.11 user; 2.20 needs Python 3.12.
  core-2.19) wanted="3.11" ;;
  core-2.20) wanted="3.12 3.13" ;;
  *) echo "usage: $0 latest|floor|minimums|core-2.19|core-2.20" >&2; exit 2 ;;
esac
pyenv_root="$(pyenv root 2>/dev/null || true)"
for version in $wanted; do
  if command -v "python$version" >/dev/null 2>&1 && "python$version" -c 'import venv' >/dev/null 2>&1; then
    command -v "python$version"; exit 0
  fi
  if [ -n "$pyenv_root" ]; then
    for candidate in "$pyenv_root"/versions/"$version".*/bin/python"$version"; do
      [ -x "$candidate" ] && { echo "$candidate"; exit 0; }
    done
  fi
done
if [ "$leg" = minimums ]; then
  echo "no Python $wanted found: the minimums leg tests the oldest Python the README claims" >&2; exit 1
fi
command -v python3
