# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the repository and the collection are, for the Event-Driven Ansible tests (their fixtures are conftest.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def collections_path() -> Path:
    """The directory holding ansible_collections/msgraph/security, as found on sys.path."""
    for entry in sys.path:
        if entry and (Path(entry) / "ansible_collections" / "msgraph" / "security").exists():
            return Path(entry)
    raise RuntimeError("put the directory holding ansible_collections/ on PYTHONPATH")
