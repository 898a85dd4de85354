# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write the offline stand-in for ansible-test's get-pip bootstrap script.

ansible-test creates a pip-less virtual environment per sanity test and then downloads
``get-pip-<ver>.py`` from a host that CI machines cannot reach.  It first looks in
``~/.ansible/test/cache/get_pip_<ver>.py``; this tool writes a small script there that
bootstraps the interpreter's bundled pip with ``ensurepip`` and then installs the pinned
packages from PyPI.  Usage: ``python offline_get_pip.py`` with the interpreter whose
ansible-test should be served.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

STAND_IN = '''\
"""Offline stand-in for get-pip.py, written by msgraph.security's test tooling."""
import subprocess
import sys

args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"])
if sys.version_info >= (3, 12):
    # pip releases older than 23.2 cannot run on Python 3.12; keep the bundled one there.
    args = [a for a in args if not (a.startswith("pip==") and tuple(int(p) for p in a[5:].split(".")[:2]) < (23, 2))]
subprocess.check_call([sys.executable, "-m", "pip", "install", *args])
'''


def pinned_pip_version() -> str:
    """Read the pip version ansible-test pins, from the installed ansible-test itself."""
    import ansible_test  # pylint: disable=import-outside-toplevel

    source = Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py"
    match = re.search(r"pip='([0-9.]+)'", source.read_text(encoding="utf-8"))
    if not match:
        raise SystemExit(f"cannot find the pinned pip version in {source}")
    return match.group(1)


def main() -> int:
    version = pinned_pip_version()
    cache = Path(os.path.expanduser("~/.ansible/test/cache"))
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"get_pip_{version.replace('.', '_')}.py"
    # Written aside and renamed: sanity legs of two lanes of make test may write and read it at once.
    partial = target.with_name(f"{target.name}.{os.getpid()}")
    partial.write_text(STAND_IN, encoding="utf-8")
    os.replace(partial, target)
    print(f"offline get-pip stand-in for pip {version}: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
