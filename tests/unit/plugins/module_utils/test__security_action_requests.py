# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A securityActions request before anything is sent: input checks, the client context, the token check, snake_case."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import json

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _security_action_requests as sar
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.tests.unit.fakes import jwt, stored_action

MDE = {"vendor": "Microsoft", "provider": "Windows Defender ATP"}


def block_ip_body(ip="203.0.113.45", client_context=None, **kwargs):
    return sar.build_create_body("BlockIp", {"IP": ip}, dict(MDE), client_context=client_context, **kwargs)


# --------------------------------------------------------------------------------------------- input


class TestParameters:
    def test_dict_becomes_key_value_pairs_with_string_values(self):
        pairs = sar.normalize_parameters({"IP": "203.0.113.45", "count": 3, "ratio": 0.5, "enabled": True, "off": False})
        assert pairs == [{"name": "IP", "value": "203.0.113.45"}, {"name": "count", "value": "3"},
                         {"name": "ratio", "value": "0.5"}, {"name": "enabled", "value": "true"},
                         {"name": "off", "value": "false"}]

    def test_list_form_keeps_order_and_stringifies(self):
        pairs = sar.normalize_parameters([{"name": "IP", "value": "203.0.113.45"}, {"name": "port", "value": 443}])
        assert pairs == [{"name": "IP", "value": "203.0.113.45"}, {"name": "port", "value": "443"}]

    @pytest.mark.parametrize("parameters", [None, {}, []])
    def test_at_least_one_parameter_is_required(self, parameters):
        with pytest.raises(InputError) as caught:
            sar.normalize_parameters(parameters)
        assert caught.value.option == "parameters"

    @pytest.mark.parametrize("parameters, fragment", [
        ([{"name": "IP"}], "exactly the keys name and value"),
        ([{"name": "IP", "value": "1.2.3.4", "@odata.type": "x"}], "exactly the keys name and value"),
        (["IP=1.2.3.4"], "exactly the keys name and value"),
        ({"IP": None}, "got null"),
        ({"IP": ["1.2.3.4"]}, "got list"),
        ({"IP": {"v": 1}}, "got dict"),
        ({"": "x"}, "non-empty strings"),
        ("IP=1.2.3.4", "must be a list"),
    ])
    def test_malformed_parameters_are_refused(self, parameters, fragment):
        with pytest.raises(InputError) as caught:
            sar.normalize_parameters(parameters)
        assert caught.value.option == "parameters"
        assert fragment in str(caught.value)

    @pytest.mark.parametrize("field", ["appId", "azureTenantId", "user", "status", "id", "createdDateTime", "APPID"])
    def test_read_only_properties_cannot_slip_in_as_parameters(self, field):
        with pytest.raises(InputError) as caught:
            sar.normalize_parameters({"IP": "203.0.113.45", field: "x"})
        assert caught.value.option == "parameters"
        assert "read-only" in str(caught.value)


class TestVendorInformation:
    def test_snake_case_becomes_camel_case_and_unset_is_dropped(self):
        vendor = sar.normalize_vendor_information({"vendor": "Microsoft", "provider": "Windows Defender ATP",
                                                  "sub_provider": "AppLocker", "provider_version": None})
        assert vendor == {"vendor": "Microsoft", "provider": "Windows Defender ATP", "subProvider": "AppLocker"}

    @pytest.mark.parametrize("missing", ["vendor", "provider"])
    def test_vendor_and_provider_are_required(self, missing):
        vendor = dict(MDE)
        del vendor[missing]
        with pytest.raises(InputError) as caught:
            sar.normalize_vendor_information(vendor)
        assert caught.value.option == "vendor_information"
        assert missing in str(caught.value)

    def test_unknown_and_read_only_keys_are_refused(self):
        with pytest.raises(InputError, match="unknown key 'subProvider'"):
            sar.normalize_vendor_information(dict(MDE, subProvider="x"))
        with pytest.raises(InputError, match="read-only"):
            sar.normalize_vendor_information(dict(MDE, appId="x"))


class TestActionId:
    def test_a_guid_is_accepted(self):
        assert sar.validate_action_id("0f6b1c3e-5b8a-4c49-9e1e-1e2f3a4b5c6d") == "0f6b1c3e-5b8a-4c49-9e1e-1e2f3a4b5c6d"

    @pytest.mark.parametrize("value", ["", "   ", None, "../x", "a?b", "a#b", "a b", "a\\b", "a\nb"])
    def test_empty_or_path_changing_ids_are_refused(self, value):
        with pytest.raises(InputError) as caught:
            sar.validate_action_id(value)
        assert caught.value.option == "id"


class TestClientContext:
    def test_256_characters_are_accepted_257_refused(self):
        assert sar.validate_client_context("x" * 256) == "x" * 256
        with pytest.raises(InputError) as caught:
            sar.validate_client_context("x" * 257)
        assert caught.value.option == "client_context"
        assert "257" in str(caught.value) and "256" in str(caught.value)

    def test_derived_context_follows_the_documented_scheme(self):
        body = block_ip_body()
        canonical = json.dumps({"name": "blockip", "parameters": [["ip", "203.0.113.45"]], "provider": "windows defender atp",
                                "vendor": "microsoft"}, sort_keys=True, separators=(",", ":"))
        assert body["clientContext"] == "msgraph.security:v1:" + hashlib.sha256(canonical.encode()).hexdigest()
        assert len(body["clientContext"]) == 84 <= sar.CLIENT_CONTEXT_MAX_LENGTH

    def test_derived_context_ignores_order_form_case_reason_and_sub_provider(self):
        reference = block_ip_body()["clientContext"]
        variants = [
            sar.build_create_body("blockip", [{"name": "ip", "value": "203.0.113.45"}], {"vendor": "MICROSOFT",
                                  "provider": "windows defender atp"}),
            sar.build_create_body("BlockIp", {"IP": "203.0.113.45"}, dict(MDE, sub_provider="x", provider_version="1"),
                                  action_reason="another reason"),
            sar.build_create_body("BlockIp", {"IP": "203.0.113.45"}, dict(MDE), client_context=""),
        ]
        assert [variant["clientContext"] for variant in variants] == [reference] * 3

    def test_derived_context_is_order_independent_for_several_parameters(self):
        one = sar.build_create_body("BlockIp", {"IP": "203.0.113.45", "Note": "a"}, dict(MDE))
        two = sar.build_create_body("BlockIp", [{"name": "Note", "value": "a"}, {"name": "IP", "value": "203.0.113.45"}], dict(MDE))
        assert one["clientContext"] == two["clientContext"]

    def test_a_different_target_gets_a_different_context(self):
        assert block_ip_body("203.0.113.45")["clientContext"] != block_ip_body("203.0.113.46")["clientContext"]

    def test_explicit_context_is_sent_as_given(self):
        body = block_ip_body(client_context="INC-1", action_reason="why")
        assert body == {"name": "BlockIp", "parameters": [{"name": "IP", "value": "203.0.113.45"}],
                        "vendorInformation": MDE, "clientContext": "INC-1", "actionReason": "why"}

    def test_name_is_required(self):
        with pytest.raises(InputError) as caught:
            sar.build_create_body(" ", {"IP": "1.2.3.4"}, dict(MDE))
        assert caught.value.option == "name"


class TestDelegatedToken:
    def test_token_with_scp_is_refused(self):
        with pytest.raises(InputError) as caught:
            sar.refuse_delegated_token(jwt({"scp": "SecurityActions.ReadWrite.All", "aud": "https://graph.microsoft.com"}),
                                       "access_token")
        assert caught.value.option == "access_token"
        assert "delegated" in str(caught.value) and "application" in str(caught.value)

    @pytest.mark.parametrize("token", [jwt({"roles": ["SecurityActions.ReadWrite.All"]}), "opaque-token", "a.%%%.c"])
    def test_app_only_and_unreadable_tokens_pass(self, token):
        sar.refuse_delegated_token(token, "access_token")

    def test_token_is_not_judged_when_another_auth_method_is_used(self):
        sar.refuse_delegated_token(jwt({"scp": "User.Read"}), "client_secret")


# --------------------------------------------------------------------------------------------- output


class TestSnakeCase:
    def test_every_documented_key_and_no_odata_annotations(self):
        action = sar.action_to_snake(stored_action("a1", "ctx", status="notStarted",
                                                   error_info={"code": 400, "message": "m", "subcode": 1}))
        assert set(action) == {"id", "name", "status", "states", "error_info", "parameters", "vendor_information",
                               "client_context", "action_reason", "app_id", "azure_tenant_id", "user",
                               "created_date_time", "completed_date_time", "last_action_date_time"}
        assert action["status"] == "NotStarted"
        assert action["error_info"] == {"code": 400, "message": "m", "subcode": 1}
        assert action["vendor_information"] == {"vendor": "Microsoft", "provider": "Windows Defender ATP",
                                                "sub_provider": None, "provider_version": None}
        assert action["states"] == [{"app_id": "app-1", "status": "NotStarted", "updated_date_time": "2026-05-01T10:00:00Z",
                                     "user": None}]

    @pytest.mark.parametrize("given, expected", [("notStarted", "NotStarted"), ("RUNNING", "Running"),
                                                 ("completed", "Completed"), ("Failed", "Failed"), ("weird", "weird")])
    def test_status_spelling_is_normalized(self, given, expected):
        assert sar.normalize_status(given) == expected
