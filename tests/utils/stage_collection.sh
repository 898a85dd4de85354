#!/usr/bin/env bash
# Copy the working tree to DEST/ansible_collections/msgraph/security: ansible-test only runs from a
# real (not symlinked) ansible_collections/<namespace>/<name> directory.
set -euo pipefail
dest="$1/ansible_collections/msgraph/security"
rm -rf "$dest"
mkdir -p "$dest"
tar -C "$(git rev-parse --show-toplevel 2>/dev/null || pwd)" \
  --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./.cache --exclude=./.ansible \
  --exclude='./tests/output' --exclude='__pycache__' --exclude='.pytest_cache' --exclude='*.tar.gz' \
  -cf - . | tar -C "$dest" -xf -
echo "$dest"
