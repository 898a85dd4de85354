# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of ISO 8601 times to UTC."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import pytest

from ansible_collections.msgraph.security.plugins.module_utils import _timestamps as times
from ansible_collections.msgraph.security.plugins.module_utils._errors import InputError


@pytest.mark.parametrize("value, expected", [
    ("2026-05-01T10:00:00+02:00", "2026-05-01T08:00:00Z"),
    ("2026-05-01", "2026-05-01T00:00:00Z"),
    ("2021-09-30T09:35:45.1133333Z", "2021-09-30T09:35:45.113333Z"),
    ("2026-05-01 08:00", "2026-05-01T08:00:00Z"),
])
def test_timestamps_become_utc(value, expected):
    assert times.normalize_timestamp(value, "updated_since") == expected


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", ""])
def test_bad_timestamps_name_the_option(value):
    with pytest.raises(InputError) as caught:
        times.normalize_timestamp(value, "updated_since")
    assert caught.value.option == "updated_since"


def test_offsets_without_a_colon_and_naive_datetimes_are_utc_and_service_times_parse_or_are_none():
    assert times.normalize_timestamp("2026-05-01T03:00:00-0500", "since") == "2026-05-01T08:00:00Z"
    assert times.normalize_timestamp(datetime.datetime(2026, 5, 1, 8, 0), "since") == "2026-05-01T08:00:00Z"
    moment = times.parse_service_time("2021-09-30T09:35:45.1133333Z")
    assert moment == datetime.datetime(2021, 9, 30, 9, 35, 45, 113333, tzinfo=datetime.timezone.utc)
    assert times.parse_service_time("not a time") is None and times.parse_service_time(None) is None
