# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The EDA controller files of docs/eda.md: the credential type injects every input as a variable the event source
reads, and the decision environment is a definition ansible-builder accepts (no container engine needed)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from ansible_collections.msgraph.security.plugins.module_utils._options import CONNECTION_OPTIONS

ROOT = Path(__file__).resolve().parents[3]
CREDENTIAL_TYPE = ROOT / "docs" / "eda" / "credential_type_msgraph.yml"
# What each input is for (an option of the source, by its environment variable); the two PEM texts become files.
FILE_INPUTS = {"client_certificate": ("cert", "client_certificate_path"), "ca_bundle": ("ca", "ca_path")}


def referenced(template):
    return set(re.findall(r"\b([a-z_]+)\b", re.sub(r"eda\.filename\.\w+", "", template))) - {"if", "endif"}


def test_the_credential_type_injects_every_input_as_a_variable_the_source_reads():
    credential = yaml.safe_load(CREDENTIAL_TYPE.read_text(encoding="utf-8"))
    fields = [field["id"] for field in credential["inputs"]["fields"]]
    env = credential["injectors"]["env"]
    files = credential["injectors"].get("file", {})
    injected = set()
    for template in list(env.values()) + list(files.values()):
        injected |= referenced(template) & set(fields)
    assert sorted(injected) == sorted(fields)  # every input reaches the activation
    source_env = {name: option for option, spec in CONNECTION_OPTIONS.items() for name in spec.get("env") or []}
    for variable, template in env.items():
        assert variable in source_env, f"{variable} is not read by the event source"
        (field,) = referenced(template) & set(fields)
        if field in FILE_INPUTS:
            name, option = FILE_INPUTS[field]
            assert source_env[variable] == option and f"eda.filename.{name}" in template and files[f"template.{name}"] == "{{ %s }}" % field
            assert template.startswith("{% if " + field + " %}")  # an empty field never becomes an empty path
        else:
            assert source_env[variable] == field, (variable, field)
    assert not [name for name in env if name.startswith("EDA_")]  # reserved by EDA controller
    secret = {field["id"] for field in credential["inputs"]["fields"] if field.get("secret")}
    assert secret == {name for name, spec in CONNECTION_OPTIONS.items() if spec.get("no_log")} - {"access_token"} | {"client_certificate"}


def test_docs_eda_shows_the_credential_type_file():
    guide = (ROOT / "docs" / "eda.md").read_text(encoding="utf-8")
    assert "eda/credential_type_msgraph.yml" in guide and "eda/decision-environment.yml" in guide
