# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Print the totals of `make test`: pytest cases from JUnit files plus one case per other stage.

Exit status 1 when anything failed, so CI judges the whole run by one line and one code.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def junit_counts(path: Path) -> tuple[int, int, int]:
    passed = failed = skipped = 0
    for case in ET.parse(path).iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            failed += 1
        elif case.find("skipped") is not None:
            skipped += 1
        else:
            passed += 1
    return passed, failed, skipped


def stage_time(outcome: Path) -> str:
    """The stage's wall time, and its CPU time where tests/utils/stage.sh recorded it."""
    cpu = outcome.with_suffix(".cpu")
    return f"{outcome.read_text().strip()} s" + (f", {cpu.read_text().strip()} CPU-s" if cpu.exists() else "")


def main(results: Path) -> int:
    passed = failed = skipped = 0
    for outcome in sorted(results.glob("*.ok")) + sorted(results.glob("*.failed")):
        junit = results / f"{outcome.stem}.xml"
        stage_failed = outcome.suffix == ".failed"
        if junit.exists():
            p, f, s = junit_counts(junit)
            print(f"  {outcome.stem:<28} {p:>5} passed {f:>4} failed {s:>4} skipped  ({stage_time(outcome)})")
            passed, failed, skipped = passed + p, failed + f, skipped + s
            # A stage that failed outside its test cases (collection error, crash) still counts.
            if stage_failed and not f:
                failed += 1
        else:
            print(f"  {outcome.stem:<28} {'failed' if stage_failed else 'passed':>12}  ({stage_time(outcome)})")
            failed, passed = (failed + 1, passed) if stage_failed else (failed, passed + 1)
    if not (passed or failed):
        print("no stage ran")
        return 1
    cpu = sum(int(path.read_text().strip() or 0) for path in results.glob("*.cpu"))
    print(f"  CPU time of all stages: {cpu} s ({cpu / 60:.0f} CPU-minutes)")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1] if len(sys.argv) > 1 else "build/results")))
