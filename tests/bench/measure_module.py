# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one module the way Ansible does (its arguments in a JSON file) and record the process's peak memory.

    python measure_module.py OUT.json ansible_collections.msgraph.security.plugins.modules.X ARGS.json

OUT.json gets ``peak_rss_kib`` (the peak resident set of this process, which is the module process),
``seconds`` (from just before the module is imported to its exit) and ``result`` (the module's JSON output).
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import resource
import runpy
import sys
import time


def peak_rss_kib():
    """VmHWM of this process. Not ru_maxrss: Linux carries that over fork and exec, so a child started by a big
    process (the harness, which also runs the emulator) would report the parent's size."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main():
    out_path, module, args_path = sys.argv[1:4]
    started = time.perf_counter()
    captured = io.StringIO()

    def report():
        text = captured.getvalue()
        sys.__stdout__.write(text)
        with open(out_path, "w", encoding="utf-8") as handle:
            json.dump({"peak_rss_kib": peak_rss_kib(),
                       "seconds": time.perf_counter() - started,
                       "result": json.loads(text) if text.strip() else None}, handle)

    atexit.register(report)  # modules end with sys.exit() from exit_json/fail_json
    sys.argv = [module, args_path]
    with contextlib.redirect_stdout(captured):
        runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
