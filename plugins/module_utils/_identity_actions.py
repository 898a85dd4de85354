# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.

"""Defender for Identity invokeAction: the request, its plan, sending it once and reconciling an unknown outcome.

Layer 2 (see docs/architecture.md): no Ansible imports. Every decision identity_account_action makes for one
target lives here (a bulk task runs many through _identity_bulk), so unit tests reach it with a fake client that has
the GraphClient methods used below (get, get_all, post, url_for).

Facts this file relies on, each with its Microsoft source in docs/service-contract.md:
* actions: POST .../{id}/invokeAction with {accountId, action, identityProvider} (row 2);
* the answer comes in the schema shape or the documentation example's (row 9);
* the only readable state is isEnabled and accounts[].actions (rows 10 to 12).
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError
from ansible_collections.msgraph.security.plugins.module_utils._graph_apis import IDENTITY_ACCOUNTS
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, first_present
from ansible_collections.msgraph.security.plugins.module_utils._identity_lookup import (
    get_identity,
    identity_path,
    resolve_identity,
    response_entity,
)
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_DISPLAY_NAME,
    LOOKUP_ID,
    LOOKUP_SID,
    LOOKUP_UPN,
    Selector,
    check_action_allowed_by_matrix,
    normalize_action,
    normalize_action_matrix,
    normalize_identity_provider,
    normalize_response_action,
    normalize_response_provider,
    same_identifier,
    validate_account_identifier,
    validate_identity_id,
)
from ansible_collections.msgraph.security.plugins.module_utils._protected_accounts import ProtectedAccounts
from ansible_collections.msgraph.security.plugins.module_utils._writes import (
    OUTCOME_CHECK_MODE,
    OUTCOME_UNCHANGED,
    ReconcileWait,
    Write,
    send_once,
)

# Least-privileged application permission (docs/service-contract.md row 22); passed to the client so a 403 names it.
ACTION_PERMISSION = IDENTITY_ACCOUNTS.permissions["invoke_action"]

# disable/enable have a readable target state (isEnabled); every other action is a command.
TARGET_IS_ENABLED = {"disable": False, "enable": True}
OPPOSITE_ACTION = {"disable": "enable", "enable": "disable"}

# identity_account_action's target options (task level and in each of its targets) -> lookup kind.
ACTION_TARGET_OPTIONS = {
    "identity_account_id": LOOKUP_ID,
    "user_principal_name": LOOKUP_UPN,
    "on_premises_security_identifier": LOOKUP_SID,
    "display_name": LOOKUP_DISPLAY_NAME,
}


# ---------------------------------------------------------------------------------------------
# invokeAction: request, plan, execution
# ---------------------------------------------------------------------------------------------


# How long an unknown disable/enable outcome is reconciled by default: Defender for Identity applies an action
# asynchronously (the module's reconcile_timeout).
DEFAULT_RECONCILE_TIMEOUT = 30


class ActionRequest:
    """Validated, normalized input for one invokeAction target. Built before any request is sent.

    Kept independent of the module's argument names so a bulk caller can build one per target.
    """

    def __init__(self, selector: Selector, identity_provider: str | None, action: str | None, account_id: str | None = None,
                 protected_accounts: ProtectedAccounts | Iterable[str] | None = None, action_matrix: str | None = None,
                 require_offered_action: bool = False, reconcile: ReconcileWait | None = None) -> None:
        self.selector = selector
        self.identity_provider = normalize_identity_provider(identity_provider)
        self.action = normalize_action(action)
        self.action_matrix = normalize_action_matrix(action_matrix)
        self.account_id = None if account_id in (None, "") else validate_account_identifier(account_id, "account_id")
        if isinstance(protected_accounts, ProtectedAccounts):
            self.protected = protected_accounts
        else:
            self.protected = ProtectedAccounts(protected_accounts)
        self.require_offered_action = bool(require_offered_action)
        self.reconcile = reconcile or ReconcileWait(DEFAULT_RECONCILE_TIMEOUT)
        check_action_allowed_by_matrix(self.identity_provider, self.action, self.action_matrix)


def _accounts_of(identity, identity_provider):
    return [account for account in identity["accounts"] if account["identity_provider"] == identity_provider]


def select_account(identity: Mapping[str, Any], identity_provider: str, account_id: str | None = None) -> dict[str, Any]:
    """The account the action applies to: the identity's account for that provider, or its account ``account_id``.

    An ``account_id`` the identity does not list is refused, also when it lists no accounts at all: otherwise a
    protected identity's account could be reached by naming it under another, unprotected identity.
    """
    accounts = identity["accounts"]
    if account_id is not None:
        for account in accounts:
            if same_identifier(account["identifier"], account_id):
                if account["identity_provider"] != identity_provider:
                    raise InputError(
                        "account_id",
                        f"account '{account_id}' of identity {identity['id']} belongs to identity provider '{account['identity_provider']}', not"
                        f" '{identity_provider}'",
                    )
                return account
        raise InputError(
            "account_id",
            f"identity {identity['id']} {'has the accounts ' + _describe_accounts(accounts) if accounts else 'lists no accounts'}, not '{account_id}'; nothing"
            " was sent. An account_id must be one of the identity's own accounts (so the "
            "protected_accounts check applies to its owner): find the identity that lists it with "
            f"msgraph.security.identity_account_info account_identifier={account_id}",
        )

    candidates = _accounts_of(identity, identity_provider)
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        raise InputError(
            "identity_provider",
            f"identity {identity['id']} has no '{identity_provider}' account; its accounts: {_describe_accounts(accounts) or 'none'}",
        )
    raise InputError(
        "account_id",
        f"identity {identity['id']} has {len(candidates)} '{identity_provider}' accounts ({', '.join(account['identifier'] for account in candidates)});"
        " choose one with account_id",
    )


def _describe_accounts(accounts):
    return ", ".join(f"{account['identifier']} ({account['identity_provider']})" for account in accounts)


def _state_word(is_enabled):
    return "enabled" if is_enabled else "disabled"


def state_evidence(identity: Mapping[str, Any], account: Mapping[str, Any], action: str) -> tuple[bool | None, bool | None]:
    """What each readable signal says about disable/enable's target state: (by_is_enabled, by_actions).

    True: the signal says the state is reached; False: not reached; None: the signal says nothing. ``isEnabled``
    is the identity's flag (Nullable=false in the metadata, but read defensively). The account's ``actions`` speak
    only when they offer exactly one of the action and its opposite: Microsoft's List example lists none, and its
    Get example 1 lists only Enable on an identity whose isEnabled is true (docs/service-contract.md).
    """
    target = TARGET_IS_ENABLED[action]
    is_enabled = identity.get("is_enabled")
    by_is_enabled = (is_enabled is target) if isinstance(is_enabled, bool) else None
    actions = account.get("actions") or []
    offers, offers_opposite = action in actions, OPPOSITE_ACTION[action] in actions
    by_actions = None if offers == offers_opposite else offers_opposite
    return by_is_enabled, by_actions


def _describe_evidence(identity, account):
    offers = ", ".join(str(a) for a in account.get("actions") or []) or "no action"
    return (f"isEnabled is {str(identity.get('is_enabled')).lower()} and the {account['identity_provider']} account "
            f"{account['identifier']} offers {offers}")


def evaluate_target_state(identity: Mapping[str, Any], account: Mapping[str, Any], action: str) -> tuple[bool, str | None, str | None]:
    """For disable/enable: (already_in_state, reason, note).

    ``changed=false`` only when both signals say the target state is reached. On missing or contradicting evidence
    the action is sent: a repeated disable is harmless, a skipped containment is not. ``note`` then says which
    evidence was missing or disagreed.
    """
    by_is_enabled, by_actions = state_evidence(identity, account, action)
    evidence = _describe_evidence(identity, account)
    state = _state_word(TARGET_IS_ENABLED[action])
    if by_is_enabled and by_actions:
        return True, f"already {state}: {evidence}", None
    if by_is_enabled is not None and by_actions is not None and by_is_enabled != by_actions:
        return False, None, (f"the evidence disagrees ({evidence}): isEnabled says it is {'' if by_is_enabled else 'not '}{state}, "
                             f"the account's actions say it is {'' if by_actions else 'not '}{state}; sending '{action}'")
    if by_is_enabled and by_actions is None:
        return False, None, (f"isEnabled says it is already {state}, but the account's actions do not confirm it ({evidence}); "
                             f"sending '{action}'")
    return False, None, None


def check_account_offers_action(account: Mapping[str, Any], action: str, strict: bool = False) -> str | None:
    """A non-empty ``actions`` list that lacks the action: a warning (returned), or a refusal when ``strict``.

    An empty or missing list says nothing (Microsoft's List example lists none), and the service's own refusal
    of an action is reported as it is.
    """
    actions = account.get("actions")
    if not actions or action in actions:
        return None
    message = f"the {account['identity_provider']} account {account['identifier']} lists the actions {', '.join((str(a) for a in actions))}, not '{action}'"
    if strict:
        raise InputError("require_offered_action", message + "; nothing was sent because require_offered_action is true")
    return message + "; sending it anyway, the service decides (set require_offered_action=true to refuse instead)"


def _predicted_actions(actions, action):
    """After disable the account should offer enable instead of disable, and vice versa."""
    if actions is None or action not in TARGET_IS_ENABLED:
        return actions
    opposite = OPPOSITE_ACTION[action]
    predicted = [opposite if existing == action else existing for existing in actions]
    if opposite not in predicted:
        predicted.append(opposite)
    return predicted


def action_diff(identity: Mapping[str, Any], account: Mapping[str, Any], action: str, will_send: bool) -> dict[str, Any]:
    """{before, after}: isEnabled and the account's actions now, and as expected after the action."""
    before = {"is_enabled": identity.get("is_enabled"), "actions": account.get("actions")}
    if not will_send or action not in TARGET_IS_ENABLED:
        return {"before": before, "after": dict(before)}
    after = {"is_enabled": TARGET_IS_ENABLED[action], "actions": _predicted_actions(account.get("actions"), action)}
    return {"before": before, "after": after}


class ActionPlan:
    """Everything decided before sending: the identity, the account, whether to send, and the request."""

    def __init__(self, request: ActionRequest, identity: dict[str, Any], account: dict[str, Any], send: bool, reason: str | None, path: str,
                 body: dict[str, str], warnings: list[str], evidence_note: str | None = None) -> None:
        self.request = request
        self.identity = identity
        self.account = account
        self.send = send
        self.reason = reason
        self.path = path
        self.body = body
        self.warnings = warnings
        self.evidence_note = evidence_note

    @property
    def action(self) -> str:
        """The action planned (schema camelCase)."""
        return self.request.action


def plan_action(client: GraphClient, request: ActionRequest) -> ActionPlan:
    """Resolve, guard, validate and decide; reads only (GET), never writes."""
    warnings: list[str] = []
    identity = resolve_identity(client, request.selector, warnings.append)
    return plan_for_identity(request, identity, warnings)


def plan_for_identity(request: ActionRequest, identity: dict[str, Any], warnings: list[str] | None = None) -> ActionPlan:
    """Guard, validate and decide for an identity already read (a bulk run reads many at once); no request."""
    warnings = [] if warnings is None else warnings
    request.protected.check(identity)
    identity_id = validate_identity_id(identity.get("id"), "identity_account_id")  # it goes into the URL
    account = select_account(identity, request.identity_provider, request.account_id)
    send, reason, note = True, None, None
    if request.action in TARGET_IS_ENABLED:
        already, reason, note = evaluate_target_state(identity, account, request.action)
        send = not already
    if send:
        offered_warning = check_account_offers_action(account, request.action, request.require_offered_action)
        # The evidence note already names the account's actions; one message per cause.
        for message in (note, None if note else offered_warning):
            if message:
                warnings.append(message)
    # Built only from normalized values: schema camelCase enums, the account's own identifier.
    body = {"accountId": account["identifier"], "action": request.action, "identityProvider": request.identity_provider}
    path = f"{identity_path(identity_id)}/invokeAction"
    return ActionPlan(request, identity, account, send, reason, path, body, warnings, evidence_note=note)


def parse_invoke_action_result(body: Any, sent_body: Mapping[str, str], request_id: str | None = None, client_request_id: str | None = None,
                               warn: Callable[[str], None] | None = None) -> dict[str, Any]:
    """invokeActionResult in either shape -> snake_case; fields the service omits come from what was sent."""
    entity = response_entity(body)
    result = {
        "account_id": entity.get("accountId") or sent_body["accountId"],
        "action": normalize_response_action(entity.get("action")) or sent_body["action"],
        "identity_provider": normalize_response_provider(first_present(entity, "identityProvider", "provider"))
        or sent_body["identityProvider"],
        "correlation_id": entity.get("correlationId"),
        "request_id": request_id,
        "client_request_id": client_request_id,
    }
    echoed = (result["account_id"], result["action"], result["identity_provider"])
    sent = (sent_body["accountId"], sent_body["action"], sent_body["identityProvider"])
    if warn and echoed != sent:
        warn(f"the service echoed account/action/provider {echoed} although {sent} was sent")
    return result


def shows_action_applied(plan: ActionPlan, identity: Mapping[str, Any]) -> bool:
    """After an unknown outcome: does the identity read now prove disable/enable took effect?

    The account's actions decide when they speak (and isEnabled does not contradict them). Without them only a
    change of isEnabled to the target proves anything: a flag that was already there before the POST proves nothing.
    """
    account = next((a for a in identity["accounts"] if same_identifier(a["identifier"], plan.body["accountId"])), None)
    by_is_enabled, by_actions = state_evidence(identity, account or {"actions": None}, plan.action)
    if by_actions is not None:
        return by_actions and by_is_enabled is not False
    return by_is_enabled is True and plan.identity.get("is_enabled") is not TARGET_IS_ENABLED[plan.action]


AUDIT_TRAIL = "the Microsoft Defender Action center"


def planned_write(client: GraphClient, plan: ActionPlan) -> Write:
    """The plan's invokeAction as a :class:`Write`, with this resource's rules: disable/enable are read back from the
    identity (:func:`shows_action_applied`, with the request's bounded wait); other actions cannot be read back."""
    account_id = plan.body["accountId"]
    write = Write("POST", plan.path, plan.body, ACTION_PERMISSION, what=f"the '{plan.action}' request for account {account_id}",
                  audit_trail=AUDIT_TRAIL, read_what="the identity", wait=plan.request.reconcile,
                  unreadable=", and Graph offers no way to read it back")
    if plan.action in TARGET_IS_ENABLED:
        write.read_back = lambda: get_identity(client, plan.identity["id"], "identity_account_id")
        write.proves = lambda identity: shows_action_applied(plan, identity)
        write.describe = lambda identity: _describe_evidence(identity, _account_read_back(identity, plan))
    return write


def _account_read_back(identity, plan):
    account_id = plan.body["accountId"]
    return next((a for a in identity["accounts"] if same_identifier(a["identifier"], account_id)), plan.account)


def execute_plan(client: GraphClient, plan: ActionPlan) -> tuple[str, dict[str, Any]]:
    """Send the planned invokeAction once (:func:`_writes.send_once`). Returns (outcome, invoke_action_result)."""
    sent = send_once(client, planned_write(client, plan))
    if sent.warning:
        plan.warnings.append(sent.warning)
    if sent.reconciled:
        return sent.outcome, {"account_id": plan.body["accountId"], "action": plan.action,
                              "identity_provider": plan.body["identityProvider"], "correlation_id": None, **sent.request_ids}
    result = parse_invoke_action_result(sent.answer.body, plan.body, request_id=sent.request_ids["request_id"],
                                        client_request_id=sent.request_ids["client_request_id"], warn=plan.warnings.append)
    return sent.outcome, result


def run_identity_action(client: GraphClient, request: ActionRequest, check_mode: bool = False) -> dict[str, Any]:
    """Plan and (unless in check mode or already in state) send one invokeAction.

    Returns a dict with snake_case keys: changed, outcome, reason, identity_account, request,
    invoke_action_result, diff, evidence, warnings (None values are dropped by the module).
    """
    plan = plan_action(client, request)
    plan.warnings[:0] = request.protected.warnings()
    result: dict[str, Any] = {
        "changed": plan.send,
        "identity_account": plan.identity,
        "diff": action_diff(plan.identity, plan.account, plan.action, plan.send),
        "warnings": plan.warnings,  # the same list: execution may still add to it
    }
    if plan.action in TARGET_IS_ENABLED:
        by_is_enabled, by_actions = state_evidence(plan.identity, plan.account, plan.action)
        result["state_evidence"] = {
            "is_enabled": plan.identity.get("is_enabled"),
            "account_actions": plan.account.get("actions"),
            "is_enabled_says_done": by_is_enabled,
            "account_actions_say_done": by_actions,
            "note": plan.evidence_note,
        }
    if not plan.send:
        result.update(outcome=OUTCOME_UNCHANGED, reason=plan.reason)
        return result
    result["request"] = planned_write(client, plan).preview(client)
    if check_mode:
        result["outcome"] = OUTCOME_CHECK_MODE
        return result
    result["outcome"], result["invoke_action_result"] = execute_plan(client, plan)
    result["request_ids"] = {key: result["invoke_action_result"][key] for key in ("request_id", "client_request_id")}
    return result
