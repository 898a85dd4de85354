# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The opt-in persistent token cache: permissions, keying, write-back only on change, MSAL round trip
(no discovery and no token request in a new process), and concurrent writers."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import multiprocessing
import os
import stat

import msal
import pytest
import requests
import responses

from ansible_collections.msgraph.security.plugins.module_utils import _token_cache
from ansible_collections.msgraph.security.plugins.module_utils._connection import ConnectionSettings
from ansible_collections.msgraph.security.plugins.module_utils._credentials import (
    MsalConfidentialTokenProvider,
    open_persistent_cache,
)
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._retries import RetryingHttpClient, RetryPolicy
from ansible_collections.msgraph.security.plugins.module_utils._token_cache import (
    DiscoveryAnswers,
    PersistentTokenCache,
    cache_file_name,
    credential_fingerprint,
    ensure_private_directory,
    open_token_cache,
)

LOGIN = "https://login.microsoftonline.com"
TENANT = "contoso.onmicrosoft.com"
AUTHORITY = "%s/%s" % (LOGIN, TENANT)
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
SCOPE = "https://graph.microsoft.com/.default"
DISCOVERY = "%s/v2.0/.well-known/openid-configuration" % AUTHORITY
TOKEN_URL = "%s/oauth2/v2.0/token" % AUTHORITY


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def token_event(token, scope=SCOPE, client_id=CLIENT_ID):
    """What MSAL hands its cache after a client-credentials token response."""
    return {"client_id": client_id, "scope": [scope], "token_endpoint": TOKEN_URL, "grant_type": "client_credentials",
            "response": {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}, "params": {}, "data": {}}


def access_tokens(path):
    with open(path) as handle:
        content = json.load(handle)
    return sorted(entry["secret"] for entry in content["token_cache"].get("AccessToken", {}).values())


@pytest.fixture
def cache_dir(tmp_path):
    return str(tmp_path / "tokens")


def new_cache(cache_dir, authority=AUTHORITY, client_id=CLIENT_ID, method="client_secret", warn=None):
    return open_token_cache(cache_dir, authority, client_id, method, warn=warn)


# --- permissions -----------------------------------------------------------------------------------

def test_directory_is_created_0700_and_file_and_lock_0600(cache_dir):
    os.umask(0o022)
    cache = new_cache(cache_dir)
    assert mode(cache_dir) == 0o700
    cache.add(token_event("tok-1"))
    assert cache.save_if_changed() is True
    assert mode(cache.path) == 0o600
    assert mode(cache.lock_path) == 0o600
    assert [name for name in os.listdir(cache_dir) if name.startswith(".tmp-")] == []  # no temp file left behind


def test_missing_parents_are_created_0700_even_with_umask_000(tmp_path):
    previous = os.umask(0)
    try:
        leaf = tmp_path / "a" / "b" / "tokens"
        ensure_private_directory(str(leaf))
    finally:
        os.umask(previous)
    assert [mode(str(path)) for path in (tmp_path / "a", tmp_path / "a" / "b", leaf)] == [0o700] * 3


def test_a_symlink_planted_at_the_lock_is_refused_cleanly(cache_dir, tmp_path):
    ensure_private_directory(cache_dir)
    target = tmp_path / "victim"
    target.write_text("")
    lock = os.path.join(cache_dir, cache_file_name(AUTHORITY, CLIENT_ID, "client_secret")) + ".lock"
    os.symlink(str(target), lock)
    with pytest.raises(InputError) as caught:
        new_cache(cache_dir)
    assert caught.value.option == "token_cache_dir" and "symbolic link" in str(caught.value)
    assert target.read_text() == ""


def test_a_symlinked_cache_directory_is_refused(tmp_path):
    real = tmp_path / "real"
    real.mkdir(mode=0o700)
    os.symlink(str(real), str(tmp_path / "link"))
    with pytest.raises(InputError, match="symbolic link"):
        ensure_private_directory(str(tmp_path / "link"))


@pytest.mark.parametrize("loose", [0o750, 0o705, 0o770, 0o777])
def test_directory_accessible_by_group_or_others_is_refused(cache_dir, loose):
    os.makedirs(cache_dir)
    os.chmod(cache_dir, loose)
    with pytest.raises(InputError) as caught:
        new_cache(cache_dir)
    assert caught.value.option == "token_cache_dir"
    assert "chmod 0700 %s" % cache_dir in str(caught.value)
    assert os.listdir(cache_dir) == []  # nothing written into a refused directory


def test_loose_cache_file_is_refused(cache_dir):
    cache = new_cache(cache_dir)
    cache.add(token_event("tok-1"))
    cache.save_if_changed()
    os.chmod(cache.path, 0o644)
    with pytest.raises(InputError) as caught:
        new_cache(cache_dir)
    assert caught.value.option == "token_cache_dir"
    assert "chmod 0600" in str(caught.value) and "0644" in str(caught.value)


def test_directory_of_another_user_is_refused(cache_dir, monkeypatch):
    os.makedirs(cache_dir, 0o700)
    monkeypatch.setattr(_token_cache.os, "geteuid", lambda: os.stat(cache_dir).st_uid + 1)
    with pytest.raises(InputError, match="owned by uid"):
        new_cache(cache_dir)


def test_symlinked_cache_file_is_refused(cache_dir, tmp_path):
    target = tmp_path / "elsewhere.json"
    target.write_text("{}")
    os.chmod(str(target), 0o600)
    ensure_private_directory(cache_dir)
    os.symlink(str(target), os.path.join(cache_dir, cache_file_name(AUTHORITY, CLIENT_ID, "client_secret")))
    with pytest.raises(InputError) as caught:
        new_cache(cache_dir)
    assert caught.value.option == "token_cache_dir"


def test_a_file_is_not_a_directory(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(InputError, match="not a directory"):
        ensure_private_directory(str(path))


# --- keying --------------------------------------------------------------------------------------

def test_one_file_per_authority_client_and_method_named_by_sha256():
    names = set([
        cache_file_name(AUTHORITY, CLIENT_ID, "client_secret"),
        cache_file_name(AUTHORITY, CLIENT_ID, "certificate"),
        cache_file_name(AUTHORITY, "other-client", "client_secret"),
        cache_file_name("https://login.microsoftonline.us/" + TENANT, CLIENT_ID, "client_secret"),
    ])
    assert len(names) == 4
    name = cache_file_name(AUTHORITY, CLIENT_ID, "client_secret")
    assert len(name) == len("0" * 64 + ".json") and CLIENT_ID not in name and TENANT not in name


def test_a_rotated_credential_gets_another_file_and_the_key_never_holds_the_credential():
    old, new = credential_fingerprint("old-secret-value"), credential_fingerprint("new-secret-value")
    assert old != new and "old-secret-value" not in old and len(old) == 64
    assert credential_fingerprint(b"old-secret-value") == old and credential_fingerprint(None) == ""
    assert cache_file_name(AUTHORITY, CLIENT_ID, "client_secret", old) != cache_file_name(AUTHORITY, CLIENT_ID,
                                                                                          "client_secret", new)


def test_a_token_of_the_old_secret_is_not_returned_after_rotation(cache_dir):
    def settings(secret):
        return ConnectionSettings(tenant_id=TENANT, client_id=CLIENT_ID, client_secret=secret,
                                  token_cache_dir=cache_dir).validate()

    before = open_persistent_cache(settings("leaked-secret-value"), "client_secret")
    before.add(token_event("tok-of-the-leaked-secret"))
    before.save_if_changed()
    after = open_persistent_cache(settings("rotated-secret-value"), "client_secret")
    assert list(after.search(after.CredentialType.ACCESS_TOKEN)) == []
    again = open_persistent_cache(settings("leaked-secret-value"), "client_secret")
    assert [entry["secret"] for entry in again.search(again.CredentialType.ACCESS_TOKEN)] == ["tok-of-the-leaked-secret"]
    for name in os.listdir(cache_dir):
        with open(os.path.join(cache_dir, name)) as handle:
            assert "leaked-secret-value" not in handle.read() and "rotated-secret-value" not in handle.read()


def test_tokens_of_one_client_are_not_seen_by_another(cache_dir):
    first = new_cache(cache_dir)
    first.add(token_event("tok-first"))
    first.save_if_changed()
    other = new_cache(cache_dir, client_id="99999999-0000-0000-0000-000000000000")
    assert list(other.search(other.CredentialType.ACCESS_TOKEN)) == []
    again = new_cache(cache_dir)
    assert [entry["secret"] for entry in again.search(again.CredentialType.ACCESS_TOKEN)] == ["tok-first"]


def test_open_persistent_cache_from_settings(cache_dir):
    settings = ConnectionSettings(tenant_id=TENANT, client_id=CLIENT_ID, client_secret="s3cret-value",
                                  token_cache_dir=cache_dir).validate()
    assert open_persistent_cache(settings, "access_token") is None
    cache = open_persistent_cache(settings, "client_secret")
    assert os.path.basename(cache.path) == cache_file_name(settings.authority, CLIENT_ID, "client_secret",
                                                           credential_fingerprint("s3cret-value"))
    unset = ConnectionSettings(tenant_id=TENANT, client_id=CLIENT_ID, client_secret="s3cret-value").validate()
    assert open_persistent_cache(unset, "client_secret") is None
    assert not os.path.exists(os.path.join(cache_dir, "x"))


# --- write-back ----------------------------------------------------------------------------------

def test_state_is_written_only_when_changed(cache_dir):
    cache = new_cache(cache_dir)
    assert cache.save_if_changed() is False
    assert not os.path.exists(cache.path)
    cache.add(token_event("tok-1"))
    assert cache.save_if_changed() is True
    before = os.stat(cache.path).st_mtime_ns
    reloaded = new_cache(cache_dir)
    list(reloaded.search(reloaded.CredentialType.ACCESS_TOKEN))  # reading changes nothing
    assert reloaded.save_if_changed() is False
    assert reloaded.writes == 0 and os.stat(cache.path).st_mtime_ns == before


def test_unreadable_file_warns_starts_empty_and_is_replaced(cache_dir):
    ensure_private_directory(cache_dir)
    path = os.path.join(cache_dir, cache_file_name(AUTHORITY, CLIENT_ID, "client_secret"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"{not json")
    os.close(fd)
    warnings = []
    cache = new_cache(cache_dir, warn=warnings.append)
    assert len(warnings) == 1 and "will be replaced" in warnings[0]
    cache.add(token_event("tok-1"))
    cache.save_if_changed()
    assert access_tokens(path) == ["tok-1"]


WRONG_SHAPES = {
    "token_cache a list": {"version": 2, "token_cache": []},
    "a section a string": {"version": 2, "token_cache": {"AccessToken": "tok"}},
    "an entry a list": {"version": 2, "token_cache": {"AccessToken": {"key": ["tok"]}}},
    "discovery a list": {"version": 2, "token_cache": {}, "discovery": ["x"]},
    "a discovery answer without status": {"version": 2, "token_cache": {}, "discovery": {"https://x": {"text": "{}"}}},
}


@pytest.mark.parametrize("content", list(WRONG_SHAPES.values()), ids=list(WRONG_SHAPES))
def test_valid_json_of_the_wrong_shape_counts_as_empty_with_a_warning(cache_dir, content):
    ensure_private_directory(cache_dir)
    path = os.path.join(cache_dir, cache_file_name(AUTHORITY, CLIENT_ID, "client_secret"))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, json.dumps(content).encode())
    os.close(fd)
    warnings = []
    cache = new_cache(cache_dir, warn=warnings.append)
    assert len(warnings) == 1 and "not in the shape" in warnings[0] and "treated as empty" in warnings[0], warnings
    assert cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN) == [] or not list(
        cache.search(msal.TokenCache.CredentialType.ACCESS_TOKEN))
    cache.add(token_event("tok-1"))  # MSAL can use it: the next save replaces the file
    cache.save_if_changed()
    assert access_tokens(path) == ["tok-1"]
    assert not warnings[1:]
    assert new_cache(cache_dir, warn=warnings.append) and len(warnings) == 1  # the replaced file reads cleanly


def test_a_failed_write_warns_instead_of_failing(cache_dir, monkeypatch):
    warnings = []
    cache = new_cache(cache_dir, warn=warnings.append)
    cache.add(token_event("tok-1"))

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_token_cache.tempfile, "mkstemp", disk_full)
    assert cache.save_if_changed() is False
    assert warnings and "No space left on device" in warnings[0] and "tok-1" not in warnings[0]


def test_merge_keeps_other_entries_and_drops_what_we_removed(cache_dir):
    ours = new_cache(cache_dir)
    ours.add(token_event("tok-old"))
    ours.save_if_changed()
    ours = new_cache(cache_dir)
    theirs = new_cache(cache_dir)
    theirs.add(token_event("tok-other-scope", scope="https://graph.microsoft.us/.default"))
    theirs.save_if_changed()
    for entry in list(ours.search(ours.CredentialType.ACCESS_TOKEN)):
        ours.remove_at(entry)  # Graph rejected it: it must not come back from the file
    ours.save_if_changed()
    assert access_tokens(ours.path) == ["tok-other-scope"]


def test_a_second_save_keeps_what_another_process_wrote_in_between(cache_dir):
    ours, theirs = new_cache(cache_dir), new_cache(cache_dir)
    theirs.add(token_event("tok-theirs", scope="api://theirs/.default"))
    theirs.save_if_changed()
    ours.add(token_event("tok-ours-1"))
    ours.save_if_changed()  # merges theirs into the file, not into our memory
    ours.add(token_event("tok-ours-2"))  # replaces tok-ours-1
    ours.save_if_changed()
    assert access_tokens(ours.path) == ["tok-ours-2", "tok-theirs"]


def test_a_stale_process_does_not_put_back_or_delete_a_newer_token(cache_dir):
    seed = new_cache(cache_dir)
    seed.add(token_event("tok-old"))
    seed.save_if_changed()
    stale, removing = new_cache(cache_dir), new_cache(cache_dir)
    fresh = new_cache(cache_dir)
    fresh.add(token_event("tok-new"))  # same key: replaces tok-old
    fresh.save_if_changed()
    stale.add(token_event("tok-x", scope="api://unrelated/.default"))  # saves while still holding tok-old
    stale.save_if_changed()
    for entry in list(removing.search(removing.CredentialType.ACCESS_TOKEN)):
        removing.remove_at(entry)  # removes tok-old, which is no longer what the file holds
    removing.save_if_changed()
    assert access_tokens(seed.path) == ["tok-new", "tok-x"]


# --- MSAL round trip: a new "process" makes no request ---------------------------------------------

def _provider(cache):
    return MsalConfidentialTokenProvider("client_secret", CLIENT_ID, AUTHORITY, SCOPE, "s3cret-value", requests.Session(),
                                         token_cache=cache)


def _serve_discovery_and_token():
    responses.add(responses.GET, DISCOVERY, json={"authorization_endpoint": AUTHORITY + "/oauth2/v2.0/authorize",
                                                  "token_endpoint": TOKEN_URL, "issuer": AUTHORITY + "/v2.0"})
    responses.add(responses.POST, TOKEN_URL, json={"access_token": "tok-from-service", "expires_in": 3599,
                                                   "token_type": "Bearer"})


@responses.activate
def test_second_process_makes_no_token_request(cache_dir):
    _serve_discovery_and_token()
    assert _provider(new_cache(cache_dir)).get_token() == "tok-from-service"
    assert [call.request.method for call in responses.calls] == ["GET", "POST"]
    second = _provider(new_cache(cache_dir))
    assert second.get_token() == "tok-from-service"
    # Through a plain session (not the retrying client the modules give MSAL) discovery is not stored.
    assert [call.request.method for call in responses.calls] == ["GET", "POST", "GET"]


def _retrying_provider(cache):
    http = RetryingHttpClient(requests.Session(), RetryPolicy(max_retries=0), stored_answers=cache.discovery)
    return MsalConfidentialTokenProvider("client_secret", CLIENT_ID, AUTHORITY, SCOPE, "s3cret-value", http, token_cache=cache)


@responses.activate
def test_a_second_process_makes_no_discovery_request_either(cache_dir):
    _serve_discovery_and_token()
    assert _retrying_provider(new_cache(cache_dir)).get_token() == "tok-from-service"
    assert [call.request.method for call in responses.calls] == ["GET", "POST"]
    for _task in range(3):
        assert _retrying_provider(new_cache(cache_dir)).get_token() == "tok-from-service"
    assert [call.request.method for call in responses.calls] == ["GET", "POST"]


def test_a_stored_discovery_answer_expires_after_a_day():
    now = [1000.0]
    answers = DiscoveryAnswers(clock=lambda: now[0])
    answer = requests.models.Response()
    answer.status_code, answer._content, answer.headers["Content-Type"] = 200, b'{"a": 1}', "application/json"
    answers.store_answer(DISCOVERY, {"api-version": "1.1"}, answer)
    assert answers.changed
    assert answers.stored_answer(DISCOVERY, {"api-version": "1.1"}) == (200, '{"a": 1}', {"Content-Type": "application/json"})
    assert answers.stored_answer(DISCOVERY) is None  # another query is another answer
    now[0] += 24 * 3600
    assert answers.stored_answer(DISCOVERY, {"api-version": "1.1"}) is None
    assert answers.merged_into({}) == answers.entries and DiscoveryAnswers(clock=lambda: now[0]).merged_into(answers.entries) == {}


def test_the_file_holds_msals_public_serialization_and_discovery_answers(cache_dir):
    cache = new_cache(cache_dir)
    cache.add(token_event("tok-1"))
    cache.save_if_changed()
    with open(cache.path) as handle:
        content = json.load(handle)
    assert sorted(content) == ["discovery", "token_cache", "version"]
    assert content["token_cache"] == json.loads(cache.serialize())
    assert content["discovery"] == {}


# --- concurrent writers ----------------------------------------------------------------------------

def _writer(cache_dir, number, rounds):
    for round_number in range(rounds):
        cache = new_cache(cache_dir)
        cache.add(token_event("tok-%d-%d" % (number, round_number), scope="api://writer-%d/.default" % number))
        cache.save_if_changed()


def test_concurrent_writers_do_not_corrupt_or_lose_entries(cache_dir):
    ensure_private_directory(cache_dir)
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_writer, args=(cache_dir, number, 15)) for number in range(6)]
    for process in writers:
        process.start()
    for process in writers:
        process.join(60)
    assert [process.exitcode for process in writers] == [0] * 6
    path = os.path.join(cache_dir, cache_file_name(AUTHORITY, CLIENT_ID, "client_secret"))
    # Every writer's last token is there: read-modify-write under the lock lost nobody's entry.
    assert access_tokens(path) == sorted("tok-%d-14" % number for number in range(6))
    assert mode(path) == 0o600
    assert [name for name in os.listdir(cache_dir) if name.startswith(".tmp-")] == []


def test_persistent_cache_is_an_msal_serializable_cache(cache_dir):
    assert isinstance(new_cache(cache_dir), msal.SerializableTokenCache)
    assert issubclass(PersistentTokenCache, msal.SerializableTokenCache)
