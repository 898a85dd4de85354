"""The OData subset: filter parsing and evaluation, select, skiptokens."""

import pytest

from graph_emulator.odata import ODataError, Resource, apply_select, decode_skiptoken, encode_skiptoken, parse_filter, parse_select

PEOPLE = Resource("test.person", {"name": "string", "active": "bool"}, {"id", "name", "active"})
ROWS = [{"id": "1", "name": "O'Brien", "active": True}, {"id": "2", "name": "Ann", "active": False}, {"id": "3", "name": None, "active": True}]


@pytest.mark.parametrize("text, expected", [
    ("name eq 'o''brien'", ["1"]),
    ("name ne 'Ann'", ["1", "3"]),
    ("name eq null", ["3"]),
    ("active eq true and name eq 'ann'", []),
    ("active eq false or name eq 'Ann'", ["2"]),
    ("(name eq 'Ann' or name eq 'O''Brien') and active eq true", ["1"]),
    ("", ["1", "2", "3"]),
])
def test_filter(text, expected):
    predicate = parse_filter(text, PEOPLE)
    assert [row["id"] for row in ROWS if predicate(row)] == expected


@pytest.mark.parametrize("text", ["name eq", "name eq 'x' and", "(name eq 'x'", "name gt 'x'", "age eq 1", "active eq 'yes'",
                                  "name eq 5", "contains(name,'x')", "name eq 'x' garbage"])
def test_bad_filters(text):
    with pytest.raises(ODataError, match="Invalid filter clause"):
        parse_filter(text, PEOPLE)


def test_select():
    names = parse_select("id, name", PEOPLE)
    assert apply_select({"@odata.type": "t", "id": "1", "name": "x", "active": True}, names) == {"@odata.type": "t", "id": "1", "name": "x"}
    with pytest.raises(ODataError, match="Could not find a property named 'secret'"):
        parse_select("id,secret", PEOPLE)


def test_skiptoken_round_trip_and_garbage():
    assert decode_skiptoken(encode_skiptoken(40)) == 40
    for bad in ("", "abc", encode_skiptoken(1)[:-3] + "!!!", "RFNwdAIAAQAAA" + "eyJvZmZzZXQiOiAtMX0"):
        with pytest.raises(ODataError):
            decode_skiptoken(bad)
