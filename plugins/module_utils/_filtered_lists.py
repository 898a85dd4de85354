# -*- coding: utf-8 -*-
# Copyright (c) msgraph.security contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the msgraph.security collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# Layer 2: _errors, _graph_client, _timestamps and the standard library. No Ansible imports.

"""Lists of incidents and alerts read by the documented ``$filter`` properties (``/security/incidents``,
``/security/alerts_v2``).

Decisions documented once, here (the service contract is docs/service-contract.md, "Incidents and alerts"):

* **Filters.** ``severity``, ``status`` and ``lastUpdateDateTime`` are documented ``$filter`` properties. The
  bounds are sent to the service *and* re-checked on every result, so a service that ignores a clause cannot
  widen what a playbook (or a rulebook) acts on.
* **Several values of one property.** Sent first as ``(p eq 'a' or p eq 'b')``. Microsoft's list pages document
  only ``{property} eq '{value}'``, so a 400 to the combined filter is answered by one query per combination of
  values (each the documented form), merged, de-duplicated by id and ordered newest update first; ``top`` then
  applies to the merged list. A 400 to a single-value query is the service's answer and is reported.
"""

from __future__ import absolute_import, annotations, division, print_function

__metaclass__ = type

import itertools
from typing import Any, Callable, Iterable, Mapping

from ansible_collections.msgraph.security.plugins.module_utils._errors import GraphError
from ansible_collections.msgraph.security.plugins.module_utils._graph_client import GraphClient, odata_string
from ansible_collections.msgraph.security.plugins.module_utils._timestamps import parse_service_time


def build_filter(severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                 service_sources: list[str] | None = None, odata_filter: str | None = None) -> str | None:
    """The ``$filter`` for the documented properties: values of one property joined with ``or``, properties with ``and``."""
    clauses = []
    for prop, values in (("severity", severities), ("status", statuses), ("serviceSource", service_sources)):
        if values:
            joined = " or ".join(f"{prop} eq {odata_string(value)}" for value in values)
            clauses.append(f"({joined})" if len(values) > 1 else joined)
    if updated_since:
        clauses.append(f"lastUpdateDateTime ge {updated_since}")
    if odata_filter:
        clauses.append(f"({odata_filter})" if clauses else odata_filter)
    return " and ".join(clauses) or None


def matches_bounds(item: Mapping[str, Any], severities: list[str] | None = None, statuses: list[str] | None = None, updated_since: str | None = None,
                   service_sources: list[str] | None = None) -> bool:
    """The local re-check of the bounds sent in ``$filter`` (item: a parsed incident or alert)."""
    if severities and item.get("severity") not in severities:
        return False
    if statuses and item.get("status") not in statuses:
        return False
    if service_sources and item.get("service_source") not in service_sources:
        return False
    if updated_since:
        updated = parse_service_time(item.get("last_update_date_time"))
        since = parse_service_time(updated_since)  # callers pass a normalized time: never None
        if updated is None or (since is not None and updated < since):
            return False
    return True


def _value_combinations(severities, statuses, service_sources):
    """Each combination of one value per property (None: the property is not filtered)."""
    return list(itertools.product(*[[[value] for value in values] if values else [None]
                                    for values in (severities, statuses, service_sources)]))


def _newest_first(item):
    moment = parse_service_time(item.get("lastUpdateDateTime")) if isinstance(item, dict) else None
    return moment.timestamp() if moment else 0.0  # no time: the epoch


def list_filtered(client: GraphClient, path: str, permission: str, severities: list[str] | None = None, statuses: list[str] | None = None,
                  service_sources: list[str] | None = None, updated_since: str | None = None, odata_filter: str | None = None,
                  top: int | None = None, params: Mapping[str, Any] | None = None,
                  warn: Callable[[str], None] | None = None) -> list[Any]:
    """The raw items of ``path`` matching the filter: one combined query, or, when the service answers 400 to a filter
    joining several values with ``or``, one documented ``eq`` query per combination, merged and de-duplicated by id."""
    query = dict(params or {}, **{"$filter": build_filter(severities, statuses, updated_since, service_sources, odata_filter)})
    if top:
        query["$top"] = top
    try:
        return client.get_all(path, params=query, max_items=top, permission=permission)
    except GraphError as error:
        combinations = _value_combinations(severities, statuses, service_sources)
        if error.status != 400 or len(combinations) < 2:
            raise
        refused = error
    if warn:
        warn(f"the service refused the filter joining several values with 'or' (HTTP 400 {refused.code}, request-id "
             f"{refused.request_id}); sent {len(combinations)} queries of one value each instead and merged them")
    merged, seen = [], set()
    for severity, status, source in combinations:
        single = dict(query, **{"$filter": build_filter(severity, status, updated_since, source, odata_filter)})
        for item in client.get_all(path, params=single, max_items=top, permission=permission):
            key = item.get("id") if isinstance(item, dict) else None
            if key is None or key not in seen:
                seen.add(key)
                merged.append(item)
    merged.sort(key=_newest_first, reverse=True)
    return merged[:top] if top else merged


def parse_each(raw_items: Iterable[Any], parse: Callable[[Any], dict[str, Any]],
               malformed: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """``parse`` every item; with ``malformed(message)`` an item that cannot be parsed is skipped with a message
    naming its id (a long-running source must not end on one bad item), without it the error propagates."""
    parsed = []
    for item in raw_items:
        try:
            parsed.append(parse(item))
        except (TypeError, ValueError, AttributeError, KeyError) as exc:
            if malformed is None:
                raise
            item_id = item.get("id") if isinstance(item, dict) else None
            malformed(f"skipped a malformed item (id {item_id!r}): {type(exc).__name__}: {exc}")
    return parsed
