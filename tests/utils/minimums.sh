#!/usr/bin/env bash
# The minimums leg: the lowest versions the collection declares, installed exactly, on the oldest Python it claims.
#   tests/utils/minimums.sh <venv>     create <venv> and check that every floor is installed exactly
# Floors: each "name>=X" of requirements.txt becomes "name==X" (a pip constraint, so the test tools' own
# requirements cannot lift it), and ansible-core is pinned to meta/runtime.yml's requires_ansible.
set -euo pipefail
venv="${1:?usage: $0 <venv>}"
root="$(cd "$(dirname "$0")/../.." && pwd)"
python="$("$root/tests/utils/find_python.sh" minimums)"
core="$(sed -n "s/^requires_ansible: *'>=\([0-9.]*\)'.*/\1/p" "$root/meta/runtime.yml")"
rm -rf "$venv"
"$python" -m venv "$venv"
constraints="$venv/floors.txt"
{
  grep -E '^[A-Za-z0-9_.-]+>=' "$root/requirements.txt" | sed -E 's/>=/==/; s/[[:space:]]*(#.*)?$//'
  echo "ansible-core==$core"
} > "$constraints"
pip=("$venv/bin/python" -m pip --quiet --disable-pip-version-check)
"${pip[@]}" install "ansible-core==$core" -r "$root/requirements.txt" -r "$root/tests/requirements.txt" -c "$constraints"
# Prove it: every floor is what got installed.
"$venv/bin/python" - "$constraints" <<'PY'
import sys
from importlib.metadata import version
wrong = []
for line in open(sys.argv[1]):
    name, wanted = line.strip().split("==")
    if version(name) != wanted:
        wrong.append("%s %s (wanted %s)" % (name, version(name), wanted))
print("minimums: Python %s; %s" % (sys.version.split()[0], open(sys.argv[1]).read().split()))
sys.exit("floors not installed exactly: " + ", ".join(wrong) if wrong else 0)
PY
touch "$venv/.stamp"
