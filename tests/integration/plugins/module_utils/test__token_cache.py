# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""token_cache_dir through real ansible-playbook runs: one token request per playbook, private files, and
two playbooks sharing one cache at the same time.

Each test uses its own cache directory: MSAL keys tokens by host without the port, so a cache must not
outlive the emulator instance that issued its tokens.
"""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest

from ansible_collections.msgraph.security.tests.integration.playbook_helpers import playbook, task

K_TASKS = 10


def reads_playbook(upn, count=K_TASKS):
    return playbook(*[task(f"read {number}", "identity_account_info", {"user_principal_name": upn})
                      for number in range(1, count + 1)])


def some_upn(emulator):
    return next(i["userPrincipalName"] for i in emulator.admin.state()["identities"] if i.get("userPrincipalName"))


def cache_files(cache_dir):
    return [name for name in os.listdir(cache_dir) if name.endswith(".json") and not name.startswith(".")]


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.mark.parametrize("cached", [True, False], ids=["with_cache", "without_cache"])
def test_ten_tasks_make_one_token_and_one_discovery_request_with_the_cache_and_ten_without(ansible, emulator, tmp_path, cached):
    env = {"MSGRAPH_TOKEN_CACHE_DIR": str(tmp_path / "tokens")} if cached else {}
    result = ansible.play(reads_playbook(some_upn(emulator)), env=env)
    assert result.rc == 0, result.output
    assert len([task for task in result.tasks if task["status"] == "ok"]) == K_TASKS
    counters = emulator.admin.counters()
    assert counters["token_requests"] == (1 if cached else K_TASKS)
    # The discovery answer is stored with the token (DiscoveryAnswers): one GET per run, not per task.
    assert counters["discovery_requests"] == (1 if cached else K_TASKS)
    assert os.path.exists(tmp_path / "tokens") is cached  # nothing on disk unless asked


def test_cache_files_are_private_and_tokens_stay_out_of_the_output(ansible, emulator, tmp_path):
    cache_dir = tmp_path / "tokens"
    result = ansible.play(reads_playbook(some_upn(emulator), count=2), env={"MSGRAPH_TOKEN_CACHE_DIR": str(cache_dir)},
                          verbosity=3)
    assert result.rc == 0, result.output
    assert mode(cache_dir) == 0o700
    [name] = cache_files(cache_dir)
    assert mode(cache_dir / name) == 0o600
    content = json.loads((cache_dir / name).read_text())
    [token] = [entry["secret"] for entry in content["token_cache"]["AccessToken"].values()]
    assert token not in result.output
    assert sorted(content) == ["discovery", "token_cache", "version"]
    [answer] = content["discovery"].values()  # the openid-configuration document: public, no token in it
    assert answer["status"] == 200 and token not in json.dumps(answer)


def test_a_loose_cache_directory_fails_the_task_before_any_request(ansible, emulator, tmp_path):
    cache_dir = tmp_path / "shared"
    cache_dir.mkdir()
    os.chmod(cache_dir, 0o777)
    result = ansible.play(reads_playbook(some_upn(emulator), count=1), env={"MSGRAPH_TOKEN_CACHE_DIR": str(cache_dir)})
    assert result.rc != 0
    failed = result.task("read 1")
    assert failed["option"] == "token_cache_dir" and "chmod 0700" in failed["msg"]
    assert emulator.admin.requests() == []


def test_two_playbooks_at_once_share_one_cache(ansible, emulator, tmp_path):
    cache_dir = tmp_path / "tokens"
    env = {"MSGRAPH_TOKEN_CACHE_DIR": str(cache_dir)}
    playbook = reads_playbook(some_upn(emulator), count=5)
    second_runner = type(ansible)(tmp_path / "second", emulator.info)
    results = {}

    def play(name, runner):
        results[name] = runner.play(playbook, env=env)

    threads = [threading.Thread(target=play, args=(name, runner)) for name, runner in (("a", ansible), ("b", second_runner))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert [results[name].rc for name in ("a", "b")] == [0, 0], results["a"].output + results["b"].output
    [name] = cache_files(cache_dir)
    content = json.loads((cache_dir / name).read_text())  # still parses after concurrent writers
    assert len(content["token_cache"]["AccessToken"]) == 1
    # Both may start before either has a token, but afterwards everyone reuses it: 10 tasks, at most 2 tokens.
    assert emulator.admin.counters()["token_requests"] <= 2
    assert mode(cache_dir / name) == 0o600


@pytest.mark.smoke
def test_a_rotated_secret_is_never_answered_from_the_cache(ansible, emulator, tmp_path):
    """A token cached for one secret is not handed out for another: after rotation (here: a secret Entra does not
    know, as after revoking the old one) the task asks the token service again instead of reusing the cached token."""
    env = {"MSGRAPH_TOKEN_CACHE_DIR": str(tmp_path / "tokens")}
    upn = some_upn(emulator)
    first = ansible.play(reads_playbook(upn, count=1), env=env)
    assert first.rc == 0, first.output
    assert emulator.admin.counters()["token_requests"] == 1
    rotated = ansible.play(reads_playbook(upn, count=1), env=dict(env, AZURE_CLIENT_SECRET="rotated-secret-0123456789"))
    assert rotated.rc != 0, "the cached token of the old secret was used"
    assert "AADSTS7000215" in rotated.task("read 1")["msg"]
    assert emulator.admin.counters()["token_requests"] == 2
    again = ansible.play(reads_playbook(upn, count=1), env=env)
    assert again.rc == 0 and emulator.admin.counters()["token_requests"] == 2  # the original secret's token is still cached


def test_a_cache_file_of_the_wrong_shape_warns_counts_as_empty_and_is_replaced(ansible, emulator, tmp_path):
    cache_dir = tmp_path / "tokens"
    first = ansible.play(reads_playbook(some_upn(emulator), count=1), env={"MSGRAPH_TOKEN_CACHE_DIR": str(cache_dir)})
    assert first.rc == 0, first.output
    [name] = cache_files(cache_dir)
    (cache_dir / name).write_text(json.dumps({"version": 2, "token_cache": {"AccessToken": "not an object"}}))
    emulator.admin.clear_requests()
    result = ansible.play(reads_playbook(some_upn(emulator), count=2), env={"MSGRAPH_TOKEN_CACHE_DIR": str(cache_dir)})
    assert result.rc == 0, result.output
    warnings = [str(warning) for warning in result.task("read 1").get("warnings") or []]
    assert any("not in the shape this collection writes" in warning for warning in warnings), warnings
    later = [str(warning) for warning in result.task("read 2").get("warnings") or []]
    assert not [warning for warning in later if "token cache" in warning], later  # replaced by the first task
    assert emulator.admin.counters()["token_requests"] == 2  # the first run's token, then one for the emptied cache
