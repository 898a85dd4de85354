# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _incidents (the parsed evidence), _identity_vocabulary (identifier checks) and the standard
# library. No Ansible imports.

"""Defender XDR evidence to identities: the persons an incident's user evidence names, and the identities that
identity_account_info found for them (the ``evidence_targets`` and ``evidence_identities`` filters).

Decisions documented once, here (the service contract is docs/service-contract.md, "Incidents and alerts"):

* **Evidence to targets.** Only ``userEvidence`` items name people. ``azureAdUserId`` (a GUID, the Entra ID object
  id) is looked up as an entraID account's ``identifier``, ``userSid`` (a domain SID ``S-1-5-21-...``) as
  ``on_premises_security_identifier``, ``userPrincipalName`` as ``user_principal_name``. Evidence items sharing
  any identifier are one person; a person whose evidence carries two different values of one identifier is a
  conflict and is never targeted. Evidence with none of the three (or only a well-known SID such as
  ``S-1-5-18``) is reported as unidentified, never guessed from names. Evidence whose verdict Microsoft calls
  benign (``noThreatsFound``), or whose roles all are (``contextual``), names no target (``benign_verdicts``,
  ``benign_roles``).
* **Fail closed.** A person is an identity only when every lookup of it found the same single identity and that
  identity carries each of the person's identifiers; anything else is rejected with the reason.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import re
import uuid
from typing import Any, Iterable

from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError, has_unsafe_characters, quoted
from ansible_collections.msgraph.security.plugins.module_utils._identity_vocabulary import (
    LOOKUP_ACCOUNT_IDENTIFIER,
    match_key,
    validate_sid,
    validate_upn,
)
from ansible_collections.msgraph.security.plugins.module_utils._incidents import parse_evidence

# The only evidence type that names a person (microsoft.graph.security.userEvidence).
USER_EVIDENCE = "userEvidence"

# The identifiers a person is known by, least spoofable first: the Entra ID object id (no account chooses it), the
# on-premises SID, then the UPN (an attribute an administrator, a sync rule or an attacker with rights can set).
IDENTIFIERS = ("azure_ad_user_id", "on_premises_security_identifier", "user_principal_name")
# The identity_account_info option each identifier is looked up with. The object id is an entraID account's
# documented ``identifier`` (docs/service-contract.md); no server filter on it is documented, so that lookup reads
# every identity and matches locally.
LOOKUP_OPTIONS = {"azure_ad_user_id": LOOKUP_ACCOUNT_IDENTIFIER, "on_premises_security_identifier": "on_premises_security_identifier",
                  "user_principal_name": "user_principal_name"}
_EVIDENCE_NAMES = {"azure_ad_user_id": "azureAdUserId", "on_premises_security_identifier": "userSid",
                   "user_principal_name": "userPrincipalName"}
# Microsoft's alertEvidence page and the v1.0 metadata (evidenceRole, evidenceVerdict; docs/service-contract.md).
EVIDENCE_ROLES = ("unknown", "contextual", "scanned", "source", "destination", "created", "added", "compromised", "edited",
                  "attacked", "attacker", "commandAndControl", "loaded", "suspicious", "policyViolator")
EVIDENCE_VERDICTS = ("unknown", "suspicious", "malicious", "noThreatsFound")
# What the page calls benign: role contextual ("arose likely benign"), verdict noThreatsFound ("the evidence is benign").
BENIGN_ROLES = ("contextual",)
BENIGN_VERDICTS = ("noThreatsFound",)
_DOMAIN_SID = re.compile(r"^S-1-5-21-\d+-\d+-\d+-\d+$", re.IGNORECASE)
_EVIDENCE_ENUMS = {"roles": dict((member.lower(), member) for member in EVIDENCE_ROLES),
                   "verdicts": dict((member.lower(), member) for member in EVIDENCE_VERDICTS)}


def _user_evidence(source):
    """(alert id, flat evidence) for every userEvidence of an incident (with alerts), alerts, or evidence items."""
    if isinstance(source, dict):
        source = source.get("alerts") if isinstance(source.get("alerts"), list) else [source]
    found: list[tuple[Any, dict[str, Any]]] = []
    for item in source or []:
        if not isinstance(item, dict):
            raise InputError("evidence_targets", "expects an incident with alerts, a list of alerts or a list of "
                                                 f"evidence items, got an item of type {type(item).__name__}")
        if "evidence" in item and isinstance(item["evidence"], list):
            found.extend((item.get("id"), _flat(evidence)) for evidence in item["evidence"])
        else:
            found.append((item.get("alert_id"), _flat(item)))
    return [(alert_id, evidence) for alert_id, evidence in found if evidence.get("type") == USER_EVIDENCE]


def _flat(evidence):
    return parse_evidence(evidence) if isinstance(evidence, dict) and "@odata.type" in evidence else dict(evidence or {})


def _object_id(value):
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return None


def _identifiers(evidence):
    """The usable identifiers of one user evidence, and why others were not used."""
    found, reasons = {}, []
    object_id = evidence.get("azure_ad_user_id")
    if object_id:
        if _object_id(object_id) and re.fullmatch(r"[0-9A-Fa-f-]{36}", str(object_id)):
            found["azure_ad_user_id"] = _object_id(object_id)
        else:
            reasons.append(f"azureAdUserId {quoted(object_id)} is not an object id (GUID)")
    sid = evidence.get("user_sid")
    if sid:
        if _DOMAIN_SID.match(str(sid)):
            found["on_premises_security_identifier"] = validate_sid(sid, "user_sid")
        else:
            reasons.append(f"userSid {quoted(sid)} is not a domain account SID (S-1-5-21-...)")
    upn = evidence.get("user_principal_name")
    if upn:
        try:
            found["user_principal_name"] = validate_upn(upn, "user_principal_name")
        except InputError:
            reasons.append(f"userPrincipalName {quoted(upn)} is not a user principal name")
        else:
            if has_unsafe_characters(upn):
                del found["user_principal_name"]
                reasons.append(f"userPrincipalName {quoted(upn)} contains control or formatting characters")
    return found, reasons


def _key(name, value):
    return (name, match_key(value))


def evidence_members(values: Iterable[Any] | str | None, kind: str, option: str) -> list[str]:
    """Evidence roles or verdicts (``kind``) as the metadata spells them; a misspelt one is refused."""
    if isinstance(values, str):
        values = [part for part in re.split(r"[,;\s]+", values) if part]
    if not isinstance(values, (list, tuple)):
        raise InputError(option, f"must be a list of evidence {kind}; got {values!r}")
    members = []
    for value in values:
        member = _EVIDENCE_ENUMS[kind].get(str(value).strip().lower())
        if member is None:
            raise InputError(option, f"'{value}' is not an evidence {kind[:-1]}; use one of {', '.join(_EVIDENCE_ENUMS[kind].values())}")
        members.append(member)
    return members


def _benign_reason(evidence, benign_roles, benign_verdicts):
    """Why Microsoft's verdict or roles make one evidence item benign, or None."""
    verdict = evidence.get("verdict")
    if isinstance(verdict, str) and verdict.lower() in [member.lower() for member in benign_verdicts]:
        return f"verdict {verdict}"
    roles = [role for role in evidence.get("roles") or [] if isinstance(role, str)]
    if roles and all(role.lower() in [member.lower() for member in benign_roles] for role in roles):
        return f"roles {', '.join(roles)}"
    return None


def evidence_targets(source: dict[str, Any] | list[dict[str, Any]] | None, benign_roles: Iterable[str] | str | None = None,
                     benign_verdicts: Iterable[str] | str | None = None) -> dict[str, list[dict[str, Any]]]:
    """Turn user evidence into persons to look up, each identifier separately.

    Returns ``{"persons", "excluded", "unidentified", "conflicts"}`` (see the evidence_targets filter's documentation).
    Evidence whose verdict is in ``benign_verdicts`` or whose roles are all in ``benign_roles`` (default: what
    Microsoft calls benign) names no target; a person named only by such evidence is in ``excluded``.
    """
    benign_roles = BENIGN_ROLES if benign_roles is None else evidence_members(benign_roles, "roles", "benign_roles")
    benign_verdicts = BENIGN_VERDICTS if benign_verdicts is None else evidence_members(benign_verdicts, "verdicts", "benign_verdicts")
    groups: list[dict[str, Any]] = []  # [{"keys": set, "evidence": [(alert_id, evidence, identifiers)]}]
    unidentified = []
    for alert_id, evidence in _user_evidence(source):
        identifiers, reasons = _identifiers(evidence)
        if not identifiers:
            unidentified.append({
                "alert_id": alert_id, "account_name": evidence.get("account_name"), "domain_name": evidence.get("domain_name"),
                "display_name": evidence.get("display_name"), "user_sid": evidence.get("user_sid"),
                "benign": _benign_reason(evidence, benign_roles, benign_verdicts),
                "reason": "; ".join(reasons) or "the evidence has no azureAdUserId, userSid or userPrincipalName",
            })
            continue
        keys = set(_key(name, value) for name, value in identifiers.items())
        joined = [group for group in groups if group["keys"] & keys]
        merged: dict[str, Any] = {"keys": set(keys), "evidence": []}
        for group in joined:
            merged["keys"] |= group["keys"]
            merged["evidence"].extend(group["evidence"])
        merged["evidence"].append((alert_id, evidence, identifiers))
        position = groups.index(joined[0]) if joined else len(groups)  # first-seen order
        groups[position:position] = [merged]
        for group in joined:
            groups.remove(group)
    persons, excluded, conflicts = [], [], []
    for group in groups:
        values: dict[str, list[Any]] = dict((name, []) for name in IDENTIFIERS)
        for _alert, _evidence, identifiers in group["evidence"]:
            for name, value in identifiers.items():
                if match_key(value) not in [match_key(known) for known in values[name]]:
                    values[name].append(value)
        alerts = sorted(set(str(alert) for alert, _e, _i in group["evidence"] if alert is not None))
        names = sorted(set(e.get("display_name") for _a, e, _i in group["evidence"] if isinstance(e.get("display_name"), str)))
        accounts = sorted(set(f"{e.get('domain_name') or ''}\\{e.get('account_name')}"
                              for _a, e, _i in group["evidence"] if e.get("account_name")))
        benign = [_benign_reason(e, benign_roles, benign_verdicts) for _a, e, _i in group["evidence"]]
        first = next(values[name][0] for name in IDENTIFIERS if values[name])
        if all(benign):
            excluded.append({"input": first, "identifiers": values, "alerts": alerts, "display_names": names,
                             "reason": f"every evidence item of this person is benign ({'; '.join(sorted(set(benign)))}); "
                                       "not a target (benign_roles / benign_verdicts)"})
            continue
        several = [name for name in IDENTIFIERS if len(values[name]) > 1]
        if several:
            kinds = " and more than one ".join(_EVIDENCE_NAMES[name] for name in several)
            conflicts.append({"input": first, "identifiers": values, "alerts": alerts, "display_names": names,
                              "reason": f"the evidence gives this person more than one {kinds}; not contained"})
            continue
        identifiers = dict((name, values[name][0] if values[name] else None) for name in IDENTIFIERS)
        lookups = [{"person": first, "by": name, LOOKUP_OPTIONS[name]: identifiers[name]} for name in IDENTIFIERS if identifiers[name]]
        persons.append({"input": first, "identifiers": identifiers, "lookups": lookups, "display_names": names,
                        "accounts": accounts, "alerts": alerts})
    return {"persons": persons, "excluded": excluded, "unidentified": unidentified, "conflicts": conflicts}


def _confirms(identity, name, value):
    """None when ``identity`` carries the evidence identifier ``name`` = ``value``, else why it does not."""
    if name == "azure_ad_user_id":
        entra = [account.get("identifier") for account in identity.get("accounts") or [] if account.get("identity_provider") == "entraID"]
        if any(_object_id(identifier) == value for identifier in entra):
            return None
        if not entra:
            return f"it has no entraID account, so nothing confirms azureAdUserId {value}"
        return f"its entraID account is {', '.join(str(identifier) for identifier in entra)}, not azureAdUserId {value}"
    actual = identity.get(name)
    if not isinstance(actual, str) or not actual:
        return f"it has no {_EVIDENCE_NAMES[name]} to confirm {value}"
    if match_key(actual) != match_key(value):
        return f"its {_EVIDENCE_NAMES[name]} is {actual}, not {value}"
    return None


def _summary(identity):
    return {"id": identity.get("id"), "display_name": identity.get("display_name"), "user_principal_name": identity.get("user_principal_name")}


def _resolve(person, answers):
    """(identity, None) when every lookup of ``person`` found the same one identity and it confirms every identifier;
    else (None, rejection)."""
    found_by, nobody, failed = {}, [], []
    for lookup, result in answers:
        result = result or {}
        found = result.get("identity_accounts")
        if result.get("failed") or found is None:
            failed.append(f"the {_EVIDENCE_NAMES[lookup['by']]} lookup failed: {result.get('msg') or 'no identity_accounts returned'}")
        elif not found:
            nobody.append(lookup["by"])
        found_by[lookup["by"]] = list(found or [])
    matches: list[dict[str, Any]] = []
    for found in found_by.values():
        for identity in found:
            if identity.get("id") not in [match.get("id") for match in matches]:
                matches.append(identity)
    reasons = list(failed)
    kind = "contradicting"
    if nobody and len(nobody) == len(answers):
        kind = "not_found"
        reasons.append("no identity has " + " or ".join(f"{_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in nobody))
    else:
        reasons.extend(f"no identity has {_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in nobody)
        several = [name for name, found in found_by.items() if len(found) > 1]
        if several:
            kind = "several"
            reasons.extend(f"{len(found_by[name])} identities have {_EVIDENCE_NAMES[name]} {person['identifiers'][name]}" for name in several)
        elif len(matches) > 1:
            reasons.append("the identifiers name different identities: " + "; ".join(
                f"{_EVIDENCE_NAMES[name]} finds {found[0].get('id')}" for name, found in found_by.items() if found))
    if not reasons and len(matches) == 1:
        unconfirmed = [why for why in (_confirms(matches[0], name, value) for name, value in person["identifiers"].items() if value) if why]
        if not unconfirmed:
            return matches[0], None
        reasons.extend(f"identity {matches[0].get('id')}: {why}" for why in unconfirmed)
    return None, dict(person, kind=kind, matches=[_summary(identity) for identity in matches],
                      reason="; ".join(reasons) + "; not contained")


def evidence_identities(persons: list[dict[str, Any]] | None, lookups: dict[str, Any] | list[dict[str, Any]] | None) -> dict[str, list[dict[str, Any]]]:
    """Pair ``persons`` (evidence_targets) with the identity_account_info results of their lookups, failing closed.

    ``lookups``: the registered result of identity_account_info looped over every person's ``lookups`` (its
    ``results``) or that list. A person is an identity only when all its lookups found the same single identity and
    that identity confirms each identifier. Returns ``{"identities": [identity + "input"], "rejected": [person +
    "kind", "matches", "reason"], "not_found": [...], "ambiguous": [...]}`` (the rejected, split by kind).
    """
    persons = list(persons or [])
    results = lookups.get("results") if isinstance(lookups, dict) else lookups
    results = list(results or [])
    wanted = [(person, lookup) for person in persons for lookup in person.get("lookups") or []]
    if len(results) != len(wanted):
        raise InputError("evidence_identities", f"expects one identity_account_info result per lookup ({len(persons)} persons with {len(wanted)} "
                                                f"lookups, {len(results)} results); loop the lookup over the persons' lookups")
    identities, rejected = [], []
    for person in persons:
        answers = [(lookup, result) for (owner, lookup), result in zip(wanted, results) if owner is person]
        identity, rejection = _resolve(person, answers)
        if identity is not None:
            identities.append(dict(identity, input=person["input"]))
        else:
            rejected.append(rejection)
    return {"identities": identities, "rejected": rejected, "not_found": [item for item in rejected if item["kind"] == "not_found"],
            "ambiguous": [item for item in rejected if item["kind"] != "not_found"]}
