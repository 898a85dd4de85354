# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection option table, held equal to the connection doc fragment; the attributes fragments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible_collections.msgraph.security.plugins.doc_fragments.attributes import ModuleDocFragment as Attributes
from ansible_collections.msgraph.security.plugins.doc_fragments.connection import ModuleDocFragment as Connection
from ansible_collections.msgraph.security.plugins.module_utils import _options
from ansible_collections.msgraph.security.plugins.module_utils._options import (
    AUTH_METHODS,
    AUTO_AUTH_ORDER,
    CONNECTION_OPTIONS,
    COLLECTION_VERSION,
    connection_argument_spec,
    describe_option,
    first_env_value,
    is_unset,
    resolve_unset_options,
)

COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
FRAGMENT = yaml.safe_load(Connection.DOCUMENTATION)
DOC_OPTIONS = FRAGMENT["options"]
SECRETS = {"client_secret", "client_certificate_password", "access_token"}
ENV_RE = re.compile(r"E\(([A-Z0-9_]+)\)")


def _description(name):
    description = DOC_OPTIONS[name]["description"]
    return " ".join(description) if isinstance(description, list) else description


def test_fragment_and_table_name_the_same_options():
    assert list(DOC_OPTIONS) == list(CONNECTION_OPTIONS)


@pytest.mark.parametrize("name", sorted(CONNECTION_OPTIONS))
def test_type_default_and_choices_match(name):
    table = CONNECTION_OPTIONS[name]
    doc = DOC_OPTIONS[name]
    assert doc["type"] == table["type"]
    assert doc.get("default") == table.get("default")
    assert doc.get("choices") == table.get("choices")
    assert set(doc) <= {"description", "type", "default", "choices", "version_added"}


@pytest.mark.parametrize("name", sorted(CONNECTION_OPTIONS))
def test_every_env_var_is_named_in_the_description(name):
    table_env = CONNECTION_OPTIONS[name]["env"]
    named = ENV_RE.findall(_description(name))
    for variable in table_env:
        assert variable in named, "%s: %s is not documented" % (name, variable)
    # Collection variables the description names are exactly the fallbacks (no stale names).
    ours = [variable for variable in named if variable.startswith(("AZURE_", "MSGRAPH_"))]
    assert ours == table_env
    if table_env:
        assert "parameter always wins over the environment" in _description(name)


def test_no_log_is_explicit_and_only_on_secrets():
    for name, definition in CONNECTION_OPTIONS.items():
        assert isinstance(definition["no_log"], bool), name
    assert set(name for name, definition in CONNECTION_OPTIONS.items() if definition["no_log"]) == SECRETS
    for name in SECRETS:
        assert "default" not in DOC_OPTIONS[name]


def test_required_env_names_from_the_brief():
    expected = {
        "tenant_id": ["AZURE_TENANT_ID", "AZURE_TENANT"],
        "client_id": ["AZURE_CLIENT_ID"],
        "client_secret": ["AZURE_CLIENT_SECRET", "AZURE_SECRET"],
        "client_certificate_path": ["AZURE_CLIENT_CERTIFICATE_PATH"],
        "client_certificate_password": ["AZURE_CLIENT_CERTIFICATE_PASSWORD"],
        "federated_token_file": ["AZURE_FEDERATED_TOKEN_FILE"],
        "access_token": ["MSGRAPH_ACCESS_TOKEN"],
        "auth_method": ["MSGRAPH_AUTH_METHOD"],
        "managed_identity_client_id": [],
        "cloud_environment": ["AZURE_CLOUD_ENVIRONMENT"],
        "authority_host": ["AZURE_AUTHORITY_HOST"],
        "graph_endpoint": ["MSGRAPH_ENDPOINT"],
        "allow_custom_endpoints": ["MSGRAPH_ALLOW_CUSTOM_ENDPOINTS"],
        "api_version": [],
        "validate_certs": [],
        "ca_path": ["MSGRAPH_CA_PATH"],
        "timeout": [],
        "max_retries": [],
        "retry_budget": [],
        "token_cache_dir": ["MSGRAPH_TOKEN_CACHE_DIR"],
    }
    assert dict((name, definition["env"]) for name, definition in CONNECTION_OPTIONS.items()) == expected


def test_no_subscription_anywhere():
    assert "subscription" not in Connection.DOCUMENTATION.lower()
    assert not [name for name in CONNECTION_OPTIONS if "subscription" in name]


def test_cloud_environment_is_validated_in_code_not_with_choices():
    assert "choices" not in CONNECTION_OPTIONS["cloud_environment"]
    text = _description("cloud_environment")
    for name in ("global", "usgov", "usgov_dod", "china", "AzureCloud", "AzureUSGovernment", "AzureChinaCloud"):
        assert "V(%s)" % name in text


def test_auth_method_description_documents_the_auto_order():
    text = _description("auth_method")
    positions = [text.index("O(%s)" % option) for option, dummy in AUTO_AUTH_ORDER]
    assert positions == sorted(positions)
    assert tuple(CONNECTION_OPTIONS["auth_method"]["choices"]) == AUTH_METHODS


def test_requirements_and_notes():
    assert FRAGMENT["requirements"] == ["python >= 3.9", "requests", "msal"]
    notes = " ".join(FRAGMENT["notes"])
    assert "auth_method=auto" in notes and "group/msgraph.security.graph" in notes


def test_argument_spec_from_the_table():
    def fallback(*names):
        return names

    spec = connection_argument_spec(fallback)
    assert list(spec) == list(CONNECTION_OPTIONS)
    assert spec["tenant_id"]["fallback"] == (fallback, ["AZURE_TENANT_ID", "AZURE_TENANT"])
    assert "fallback" not in spec["api_version"]
    assert spec["client_secret"]["no_log"] is True
    assert spec["client_id"]["no_log"] is False
    assert spec["auth_method"] == {"type": "str", "no_log": False, "default": "auto", "choices": list(AUTH_METHODS),
                                   "fallback": (fallback, ["MSGRAPH_AUTH_METHOD"])}
    # The spec is a copy: changing it does not change the table.
    spec["auth_method"]["choices"].append("bogus")
    assert "bogus" not in CONNECTION_OPTIONS["auth_method"]["choices"]
    assert "fallback" not in connection_argument_spec()["tenant_id"]


def test_describe_option():
    assert describe_option("client_secret") == "client_secret (or AZURE_CLIENT_SECRET, AZURE_SECRET)"
    assert describe_option("api_version") == "api_version"


def test_collection_version_matches_galaxy_yml():
    path = os.path.join(COLLECTION_ROOT, "galaxy.yml")
    if not os.path.exists(path):
        pytest.skip("galaxy.yml not present")
    with open(path) as handle:
        galaxy = yaml.safe_load(handle)
    assert galaxy["version"] == COLLECTION_VERSION
    assert "%s.%s" % (galaxy["namespace"], galaxy["name"]) == _options.COLLECTION_NAME


# --- attributes fragments ---------------------------------------------------------------------------

def test_attributes_fragment_describes_the_three_attributes():
    doc = yaml.safe_load(Attributes.DOCUMENTATION)
    assert doc["options"] == {}
    assert set(doc["attributes"]) == {"check_mode", "diff_mode", "idempotent"}
    for attribute in doc["attributes"].values():
        assert attribute["description"]
        assert "support" not in attribute


def test_info_module_fragment():
    doc = yaml.safe_load(Attributes.INFO_MODULE)
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "N/A"
    assert doc["attributes"]["idempotent"]["support"] == "full"


def test_action_group_fragment_matches_runtime_yml():
    doc = yaml.safe_load(Attributes.ACTIONGROUP_GRAPH)
    group = doc["attributes"]["action_group"]
    assert group["support"] == "full"
    assert group["membership"] == ["msgraph.security.graph"]
    assert group["description"]
    path = os.path.join(COLLECTION_ROOT, "meta", "runtime.yml")
    if os.path.exists(path):
        with open(path) as handle:
            runtime = yaml.safe_load(handle)
        assert "graph" in runtime.get("action_groups", {})


@pytest.mark.parametrize("value, unset", [
    (None, True), ("", True), ("  \t", True), ("x", False), (" x ", False), (0, False), (False, False), ([], False),
])
def test_is_unset_is_none_or_a_blank_string(value, unset):
    assert is_unset(value) is unset


def test_first_env_value_skips_blank_and_missing_variables():
    environ = {"A": "", "B": "  ", "C": "from-c", "D": "from-d"}
    assert first_env_value(["MISSING", "A", "B", "C", "D"], environ) == "from-c"
    assert first_env_value(["A", "B"], environ) is None
    assert first_env_value([], environ) is None


def test_an_unset_option_takes_its_environment_then_the_callers_default_then_the_tables():
    environ = {"AZURE_TENANT_ID": "", "AZURE_TENANT": "contoso.onmicrosoft.com", "AZURE_CLIENT_SECRET": "s3cret",
               "AZURE_CLIENT_CERTIFICATE_PATH": "~/cert.pem"}
    values, secrets = resolve_unset_options({"tenant_id": " ", "client_id": "app", "client_secret": None, "timeout": ""}, environ,
                                            {"api_version": "v1.0"})
    assert set(values) == set(CONNECTION_OPTIONS)
    assert (values["tenant_id"], values["client_id"], values["client_secret"]) == ("contoso.onmicrosoft.com", "app", "s3cret")
    assert values["client_certificate_path"] == os.path.expanduser("~/cert.pem")  # a path, expanded as Ansible does
    assert (values["api_version"], values["timeout"], values["auth_method"], values["access_token"]) == ("v1.0", 30, "auto", None)
    assert secrets == ["s3cret"]  # only no_log values from the environment
    assert resolve_unset_options({"api_version": "beta"}, {}, {"api_version": "v1.0"})[0]["api_version"] == "beta"
