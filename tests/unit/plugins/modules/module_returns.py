# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The RETURN documentation of the modules in plugins/modules/, read from their source as ansible-doc reads it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import glob
import os

MODULES_DIR = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules"))
MODULES = sorted(os.path.splitext(os.path.basename(path))[0] for path in glob.glob(os.path.join(MODULES_DIR, "*.py"))
                 if not os.path.basename(path).startswith("__"))


def return_text(name):
    """The RETURN string of module ``name``."""
    with open(os.path.join(MODULES_DIR, name + ".py")) as source:
        tree = ast.parse(source.read())
    return next(node.value.value for node in tree.body if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RETURN")


def return_block(name, key):
    """The top-level ``key:`` block of ``name``'s RETURN, as text: from ``key:`` to the next top-level key."""
    lines = return_text(name).split("\n")
    start = lines.index(key + ":")
    end = next((number for number in range(start + 1, len(lines)) if lines[number][:1] not in ("", " ")), len(lines))
    return "\n".join(lines[start:end]).rstrip("\n")
