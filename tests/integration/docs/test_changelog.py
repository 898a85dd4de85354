# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release notes: changelogs/changelog.yaml holds galaxy.yml's release with every fragment folded in, CHANGELOG.rst
is its rendering, and a first release reads as what its users get, not as the history of its development.

``make release-notes`` folds fragments added after the release was cut (other branches' work) into it and renders
CHANGELOG.rst again; the last test runs it on a copy with a late fragment.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
CHANGELOGS = ROOT / "changelogs"
VENV_BIN = Path(sys.executable).parent
# Words that tell the story of the development instead of what a first release does.
HISTORY = re.compile(r"\b(no longer|used to|previously|now (?:use|report|refuse|retr)|invent(?:s|ed|ing)?\b|instead of repeating)", re.I)


def version():
    return yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]


def changelog():
    return yaml.safe_load((CHANGELOGS / "changelog.yaml").read_text(encoding="utf-8"))


def test_every_fragment_is_folded_into_the_release():
    pending = sorted(path.name for path in (CHANGELOGS / "fragments").glob("*.y*ml"))
    assert not pending, f"run make release-notes: {pending} are not in changelogs/changelog.yaml yet"
    release = changelog()["releases"][version()]
    assert release["changes"]["release_summary"].strip()
    assert release["fragments"]


def test_a_first_release_reads_as_what_its_users_get():
    data = changelog()
    releases = data["releases"]
    if data.get("ancestor") or len(releases) != 1:
        return  # a later release may well have breaking changes and fixes
    changes = releases[version()]["changes"]
    assert not {"breaking_changes", "deprecated_features", "removed_features", "bugfixes"} & set(changes), \
        "a first release breaks, deprecates, removes and fixes nothing: describe what the user gets"
    for section, entries in changes.items():
        for entry in [entries] if isinstance(entries, str) else entries:
            assert not HISTORY.search(entry), f"{section}: reads as development history: {entry}"


def test_changelog_rst_is_the_rendering_of_changelog_yaml(tmp_path):
    copy = tmp_path / "ansible_collections" / "msgraph" / "security"
    copy.mkdir(parents=True)
    for name in ("galaxy.yml", "changelogs"):
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy2)(ROOT / name, copy / name)
    rendered = subprocess.run([str(VENV_BIN / "antsibull-changelog"), "generate"], cwd=copy, capture_output=True, text=True, check=False)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    expected = (copy / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8") == expected, "run make release-notes"
    assert f"\nv{version()}\n" in expected and "Release Summary" in expected


def test_make_release_notes_folds_a_late_fragment_into_the_release(tmp_path):
    copy = tmp_path / "checkout"
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    late = "Late feature from another branch - the release notes show it."
    (copy / "changelogs" / "fragments").mkdir(exist_ok=True)  # empty after a release: git keeps no empty directory
    (copy / "changelogs" / "fragments" / "late.yml").write_text(f"---\nminor_changes:\n  - {late}\n", encoding="utf-8")
    venv = VENV_BIN.parent
    made = subprocess.run(["make", "--no-print-directory", "release-notes", f"LATEST={venv}", "-o", f"{venv}/.stamp"],
                          cwd=copy, capture_output=True, text=True, timeout=300, check=False)
    assert made.returncode == 0, made.stdout + made.stderr
    release = yaml.safe_load((copy / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))["releases"][version()]
    assert late in release["changes"]["minor_changes"] and "late.yml" in release["fragments"]
    assert release["changes"]["release_summary"] == changelog()["releases"][version()]["changes"]["release_summary"]
    assert late in (copy / "CHANGELOG.rst").read_text(encoding="utf-8")
    assert not (copy / "changelogs" / "fragments" / "late.yml").exists()


def test_galaxy_description_names_everything_the_collection_does():
    description = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["description"]
    for subject in ("Defender for", "Identity", "Entra ID", "incidents", "alerts", "Event-Driven Ansible", "securityActions",
                    "runbooks"):
        assert subject in description, f"galaxy.yml's description does not mention {subject}"
