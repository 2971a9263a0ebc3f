"""The document checker both case loaders share: values read, issues collected."""

from __future__ import annotations

import datetime as dt

import pytest

from ccpwaterfall.domain import currency
from ccpwaterfall.io.checker import DocumentChecker, closest, kind_of


def messages(check: DocumentChecker) -> list[tuple[str, str]]:
    return [(i.field, i.message) for i in check.issues]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (True, "a boolean (true)"),
        (3, "an integer (3)"),
        (dt.date(2018, 9, 11), "a date (2018-09-11)"),
        (dt.datetime(2018, 9, 11, 10, 0), "a date-time (2018-09-11T10:00:00)"),
        (dt.time(10, 0), "a time (10:00:00)"),
        ([1], "an array"),
        ({}, "a table"),
    ],
)
def test_kind_of_names_each_toml_type(value: object, words: str) -> None:
    assert kind_of(value) == words


def test_closest_prefers_a_case_slip_over_a_near_spelling() -> None:
    assert closest("ES", ["var", "es", "span"]) == "; did you mean 'es'?"
    assert closest("defualt_fund", ["default_fund", "id"]) == "; did you mean 'default_fund'?"
    assert closest("zzz", ["default_fund", "id"]) == ""


def test_a_digit_string_is_a_whole_number_only_where_asked() -> None:
    check = DocumentChecker("f.toml")
    table = {"days": "20"}
    assert check.integer(table, "days", "t", 1, digit_string=True) == 20
    assert check.integer(table, "days", "t", 1) is None
    assert messages(check) == [("t.days", "expected a whole number, got a string ('20')")]


@pytest.mark.parametrize("text", ["²", "٣", "-1", "2.0", ""])
def test_only_ascii_digits_make_a_digit_string(text: str) -> None:
    check = DocumentChecker("f.toml")
    assert check.integer({"days": text}, "days", "t", 0, digit_string=True) is None
    assert messages(check) == [("t.days", f"expected a whole number, got a string ({text!r})")]


def test_a_whole_float_suggests_the_integer() -> None:
    check = DocumentChecker("f.toml")
    assert check.integer({"days": 2.0}, "days", "", 0) is None
    assert messages(check) == [("days", "expected a whole number, got a float (2.0); write 2")]


def test_a_table_at_a_key_is_required_or_optional() -> None:
    check = DocumentChecker("f.toml")
    assert check.table_at({}, "risk", "", required=False) is None
    assert check.table_at({}, "ccp", "", required=True) is None
    assert check.table_at({"fund": 1}, "fund", "x", required=False) is None
    assert messages(check) == [
        ("ccp", "missing required key"),
        ("x.fund", "expected a table, got an integer (1)"),
    ]


HEADER = {"format": "ccp-case/1", "name": "N", "currency": "EUR", "ccp": {"name": "C"}}


def test_a_good_header_is_read_whole() -> None:
    check = DocumentChecker("f.toml")
    header, ccy = check.header({**HEADER, "description": "d"})
    assert check.issues == []
    assert header is not None
    assert (header.name, header.description, header.ccp_name) == ("N", "d", "C")
    assert header.currency == ccy == currency("EUR")


def test_a_header_with_an_issue_still_gives_its_currency() -> None:
    check = DocumentChecker("f.toml")
    header, ccy = check.header({**HEADER, "name": " ", "ccp": {"name": "C", "lei": 1}})
    assert header is None
    assert ccy == currency("EUR")
    assert [field for field, _ in messages(check)] == ["name", "ccp.lei"]


def test_every_header_problem_at_once() -> None:
    check = DocumentChecker("f.toml")
    header, ccy = check.header({"format": "ccp-case/2", "currency": "usd", "ccp": "X"})
    assert (header, ccy) == (None, None)
    assert messages(check) == [
        ("format", "unsupported format 'ccp-case/2': this version reads 'ccp-case/1' only"),
        ("name", "missing required key"),
        (
            "currency",
            "'usd' is not an ISO 4217 currency code; did you mean 'USD'? (codes are upper case)",
        ),
        ("ccp", "expected a table ([ccp] with a name), got a string ('X')"),
    ]


def test_an_amount_without_a_currency_is_checked_in_form_only() -> None:
    check = DocumentChecker("f.toml")
    assert check.amount({"floor": "2m"}, "floor", "fund", None) is None
    assert check.issues == []
    assert check.amount({"floor": "-2m"}, "floor", "fund", None, required=False) is None
    assert messages(check) == [("fund.floor", "negative amount '-2m': amounts are zero or more")]
