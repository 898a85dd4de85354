#!/usr/bin/env bash
# ansible-test sanity for one leg: VENV is the virtual environment holding that ansible-core.
set -euo pipefail
venv="$(cd "$1" && pwd)"; leg="$2"
root="$(pwd)"
python="$venv/bin/python"
"$python" tests/utils/offline_get_pip.py
version="$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
real_python="$("$python" -c 'import os, sys; print(os.path.realpath(sys.executable))')"
# Staged outside the repository: inside a git work tree ansible-test would list only tracked files.
# One staging directory per checkout: two checkouts' runs (worktrees, CI beside a developer) must not share it.
checkout="$(printf '%s' "$root" | sha256sum | cut -c1-12)"
dest="$(tests/utils/stage_collection.sh "${TMPDIR:-/tmp}/msgraph-security-sanity-$leg-$checkout")"
cd "$dest"
# ansible-test looks the target interpreter up on PATH by name (python3.12 ...).
PATH="$venv/bin:$(dirname "$real_python"):$PATH" "$venv/bin/ansible-test" sanity --venv --python "$version" --color no
