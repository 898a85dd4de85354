# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Playbooks and look-ups shared by the connection-layer integration tests."""

from __future__ import annotations

import json

READ_PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: read
      msgraph.security.identity_account_info:
        user_principal_name: "{{ upn }}"
%(extra)s
      register: found
"""


def read_playbook(**options):
    """A one-task playbook reading one identity, with extra module options given as keyword arguments."""
    extra = "".join(f"        {name}: {json.dumps(value)}\n" for name, value in options.items())
    return READ_PLAYBOOK % {"extra": extra.rstrip("\n")}


def some_identity(emulator):
    """An enabled identity with a user principal name, read from the emulator's live state."""
    for identity in emulator.admin.state()["identities"]:
        if identity.get("userPrincipalName") and identity.get("isEnabled"):
            return identity
    raise AssertionError("the emulator's seed has no enabled identity with a UPN")


def token_requests(emulator):
    return emulator.admin.requests(route="token")


def graph_requests(emulator):
    return [entry for entry in emulator.admin.requests() if entry["path"].startswith(("/beta/", "/v1.0/"))]
