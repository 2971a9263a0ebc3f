"""Reading case files: issues, TOML reading, amounts, decimals and whole valid cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from case_samples import FULL_CASE, MINIMAL_CASE, write_case
from ccpwaterfall.domain import (
    Auction,
    CoolingOff,
    Currency,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    currency,
)
from ccpwaterfall.io import (
    InputError,
    Issue,
    field_path,
    load_case,
    parse_amount,
    parse_decimal,
    read_toml,
    validate_case,
    validate_rulebook,
)

EUR = currency("EUR")
JPY = currency("JPY")
KRW = currency("KRW")
BHD = currency("BHD")


# Issues


def test_issue_reads_file_field_message() -> None:
    assert str(Issue("case.toml", "members[3].default_fund", "bad")) == (
        "case.toml: members[3].default_fund: bad"
    )


def test_issue_without_field_reads_file_message() -> None:
    assert str(Issue("case.toml", "", "file not found")) == "case.toml: file not found"


def test_input_error_lists_every_issue_one_per_line() -> None:
    issues = (Issue("a.toml", "name", "one"), Issue("a.toml", "", "two"))
    error = InputError(issues)
    assert error.issues == issues
    assert str(error) == "a.toml: name: one\na.toml: two"


def test_input_error_needs_an_issue() -> None:
    with pytest.raises(ValueError, match="at least one issue"):
        InputError(())


def test_field_path_joins_keys_and_indexes() -> None:
    assert field_path("", "members") == "members"
    assert field_path("members", 3) == "members[3]"
    assert field_path("members[3]", "default_fund") == "members[3].default_fund"


# Reading TOML


def test_read_toml_missing_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    doc, issues = read_toml(path)
    assert doc is None
    assert issues == [Issue(str(path), "", "file not found")]


def test_read_toml_directory_is_an_issue(tmp_path: Path) -> None:
    doc, issues = read_toml(tmp_path)
    assert doc is None
    assert [i.message for i in issues] == ["is a directory, not a case file"]


def test_read_toml_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('format = "ccp-case/1"\nname = "Zürich"\n'.encode("latin-1"))
    doc, issues = read_toml(path)
    assert doc is None
    assert len(issues) == 1
    assert "not UTF-8" in issues[0].message
    assert "byte 0xfc at line 2" in issues[0].message


def test_read_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = write_case(tmp_path, 'format = "ccp-case/1"\nname = \n')
    doc, issues = read_toml(path)
    assert doc is None
    assert len(issues) == 1
    assert issues[0].file == str(path)
    assert issues[0].message.startswith("TOML syntax error:")
    assert "line 2, column 8" in issues[0].message


def test_read_toml_accepts_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + b'name = "x"\n')
    assert read_toml(path) == ({"name": "x"}, [])


# Amounts


@pytest.mark.parametrize(
    ("value", "ccy", "expected"),
    [
        (7_000_000, EUR, "7000000.00"),
        (0, EUR, "0.00"),
        ("7m", EUR, "7000000.00"),
        ("1.5bn", EUR, "1500000000.00"),
        ("1.5BN", EUR, "1500000000.00"),
        ("1.5Bn", EUR, "1500000000.00"),
        ("107000000.00", EUR, "107000000.00"),
        ("2.5K", EUR, "2500.00"),
        ("64.8M", EUR, "64800000.00"),
        ("1.2345k", EUR, "1234.50"),  # 1234.5 after the suffix: within the cent
        ("1.23456k", EUR, "1234.56"),
        ("0.01", EUR, "0.01"),
        ("57bn", KRW, "57000000000"),
        ("107000000.00", JPY, "107000000"),  # zero decimals are no decimals
        ("0.001", BHD, "0.001"),
    ],
)
def test_parse_amount_reads_integers_and_suffixed_strings(
    value: object, ccy: Currency, expected: str
) -> None:
    parsed = parse_amount(value, ccy, "c.toml", "members[0].default_fund")
    assert parsed == Money(Decimal(expected), ccy)
    assert isinstance(parsed, Money)
    assert str(parsed.amount) == expected


@pytest.mark.parametrize(
    ("value", "ccy", "fragment"),
    [
        (1.5, EUR, 'quote it: binary floats cannot hold money exactly, write "1.5"'),
        (7000000.0, EUR, 'write "7000000"'),
        (True, EUR, "expected an amount, got a boolean"),
        (-5, EUR, "negative amount -5"),
        (-0.5, EUR, "negative amount -0.5"),
        ("-5m", EUR, "negative amount '-5m'"),
        ("0.001", EUR, "'0.001' is 0.001 EUR: more decimals than the minor unit of EUR (0.01)"),
        ("1.234567k", EUR, "'1.234567k' is 1234.567 EUR: more decimals"),
        ("0.5", JPY, "more decimals than the minor unit of JPY (1)"),
        ("0.0001", BHD, "minor unit of BHD (0.001)"),
        ("abc", EUR, "not an amount: 'abc'"),
        ("1,000", EUR, "not an amount"),
        ("1.5 m", EUR, "not an amount"),
        (" 7m", EUR, "not an amount"),
        ("1e6", EUR, "not an amount"),
        (".5", EUR, "not an amount"),
        ("5.", EUR, "not an amount"),
        ("+5", EUR, "not an amount"),
        ("7mm", EUR, "not an amount"),
        ("NaN", EUR, "'NaN' is not a number"),
        ("-Infinity", EUR, "is not a number"),
        (float("nan"), EUR, "nan is not a number"),
        (float("inf"), EUR, "inf is not a number"),
        ("", EUR, "empty amount"),
        ({"a": 1}, EUR, "expected an amount, got a table"),
        (dt.date(2018, 9, 11), EUR, "got a date"),
        ("1" + "0" * 20, EUR, "too large: at most 20 digits"),
        ("100000000000bn", EUR, "too large"),
        # 30 significant digits: rounding to Decimal's 28 would hide the last one.
        ("1.00000000000000000000000000001", EUR, "more decimals than the minor unit"),
    ],
)
def test_parse_amount_rejects_what_is_not_an_exact_amount(
    value: object, ccy: Currency, fragment: str
) -> None:
    parsed = parse_amount(value, ccy, "c.toml", "defaults[0].loss")
    assert isinstance(parsed, Issue)
    assert parsed.file == "c.toml"
    assert parsed.field == "defaults[0].loss"
    assert fragment in parsed.message


def test_parse_amount_the_largest_amount_is_exact() -> None:
    parsed = parse_amount("9" * 20 + ".99", EUR, "c.toml", "f")
    assert isinstance(parsed, Money)
    assert parsed.minor_units == int("9" * 22)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("2", "2"), (3, "3"), ("0.5", "0.5"), ("1.25", "1.25"), ("-1", "-1"), (0, "0")],
)
def test_parse_decimal_reads_strings_and_integers(value: object, expected: str) -> None:
    assert parse_decimal(value, "c.toml", "f") == Decimal(expected)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (1.5, 'quote it: binary floats cannot hold decimals exactly, write "1.5"'),
        ("2m", "not a decimal number: '2m'"),
        ("1e3", "not a decimal number"),
        ("", "not a decimal number"),
        (True, "got a boolean"),
        ([1], "got an array"),
        ("1" * 29, "more than 28 digits"),
    ],
)
def test_parse_decimal_rejects_floats_suffixes_and_garbage(value: object, fragment: str) -> None:
    parsed = parse_decimal(value, "c.toml", "rulebook.waterfall[4].cap_multiple")
    assert isinstance(parsed, Issue)
    assert parsed.field == "rulebook.waterfall[4].cap_multiple"
    assert fragment in parsed.message


# Whole cases


def test_load_case_reads_every_field_of_the_format_example(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, FULL_CASE))
    assert case.name == "Nasdaq Clearing commodities default, September 2018"
    assert case.currency == EUR
    assert case.description == "optional free text"
    assert case.ccp_name == "Nasdaq Clearing AB"
    assert case.rulebook == Rulebook(
        waterfall=(
            Tranche(TrancheKind.DEFAULTER_MARGIN),
            Tranche(TrancheKind.DEFAULTER_DEFAULT_FUND),
            Tranche(
                TrancheKind.CCP_CAPITAL,
                name="Nasdaq junior capital",
                amount=Money.of("7000000", EUR),
            ),
            Tranche(
                TrancheKind.CCP_CAPITAL_PRO_RATA,
                name="Second skin in the game, pro rata with the fund",
                amount=Money.of("2000000", EUR),
                shared_with="member_default_fund",
            ),
            Tranche(TrancheKind.MEMBER_DEFAULT_FUND, allocation="auction_tiers"),
            Tranche(TrancheKind.ASSESSMENTS, cap_multiple=Decimal(2)),
            Tranche(TrancheKind.VM_GAINS_HAIRCUT, max_fraction=Decimal(1)),
        ),
        business_days_to_replenish=2,
        cooling_off=CoolingOff(business_days=20, extend_per_default=20, max_business_days=63),
    )
    aas, b01, b02 = case.members
    assert (aas.id, aas.name, aas.group) == ("AAS", "Einar Aas", "AAS")
    assert aas.default_fund == Money.of("1200000", EUR)
    assert aas.initial_margin == Money.of("50000000", EUR)
    assert aas.vm_gains == Money.zero(EUR)
    assert (b01.id, b01.name, b01.group) == ("B01", None, None)
    assert b01.default_fund == Money.of("100000000", EUR)
    assert b01.initial_margin == Money.of("250000000.50", EUR)
    assert b01.vm_gains == Money.zero(EUR)  # vm_gains left out
    assert b02.default_fund == Money.of("64800000", EUR)
    assert b02.initial_margin == Money.of("1500000000", EUR)
    assert b02.vm_gains == Money.of("2500", EUR)
    (default,) = case.defaults
    assert default.member == "AAS"
    assert default.loss == Money.of("165200000", EUR)
    assert default.date == dt.date(2018, 9, 11)
    assert case.auctions == (Auction(dt.date(2018, 9, 11), (("B02",), ("B01",))),)


def test_load_case_cooling_off_defaults_extend_to_zero(tmp_path: Path) -> None:
    text = MINIMAL_CASE.replace("[rulebook]\n", "[rulebook]\ncooling_off = { business_days = 5 }\n")
    case = load_case(write_case(tmp_path, text))
    assert case.rulebook.cooling_off == CoolingOff(business_days=5)
    assert case.rulebook.business_days_to_replenish is None


def test_a_date_string_reads_as_the_toml_date(tmp_path: Path) -> None:
    as_string = load_case(write_case(tmp_path, MINIMAL_CASE + 'date = "2018-09-11"\n', "a.toml"))
    as_date = load_case(write_case(tmp_path, MINIMAL_CASE + "date = 2018-09-11\n", "b.toml"))
    assert as_string.defaults[0].date == dt.date(2018, 9, 11)
    assert as_string == as_date


def test_members_keep_the_order_of_the_file(tmp_path: Path) -> None:
    member = '[[members]]\nid = "{}"\ndefault_fund = {}\ninitial_margin = 1\n'
    head = MINIMAL_CASE.split("[[members]]")[0]
    defaults = '[[defaults]]\nmember = "B"\nloss = 1\n'
    forward = head + member.format("A", 1) + member.format("B", 2) + defaults
    backward = head + member.format("B", 2) + member.format("A", 1) + defaults
    one = load_case(write_case(tmp_path, forward, "forward.toml"))
    other = load_case(write_case(tmp_path, backward, "backward.toml"))
    assert [m.id for m in one.members] == ["A", "B"]
    assert [m.id for m in other.members] == ["B", "A"]
    assert set(one.members) == set(other.members)
    assert one.events == other.events


def test_undated_defaults_form_one_event(tmp_path: Path) -> None:
    text = MINIMAL_CASE.replace(
        "[[defaults]]",
        '[[members]]\nid = "B"\ndefault_fund = 1\ninitial_margin = 1\n\n'
        '[[defaults]]\nmember = "B"\nloss = "1.5"\n\n[[defaults]]',
    )
    case = load_case(write_case(tmp_path, text))
    (event,) = case.events
    assert event.date is None
    assert event.defaulters == ("A", "B")
    assert case.defaults[0].loss == Money.of("1.50", EUR)


def test_member_ids_are_case_sensitive(tmp_path: Path) -> None:
    text = MINIMAL_CASE.replace(
        "[[defaults]]",
        '[[members]]\nid = "a"\ndefault_fund = 1\ninitial_margin = 1\n\n[[defaults]]',
    )
    case = load_case(write_case(tmp_path, text))
    assert [m.id for m in case.members] == ["A", "a"]


def test_load_case_raises_input_error_naming_the_path_as_given(tmp_path: Path) -> None:
    path = write_case(tmp_path, MINIMAL_CASE.replace('name = "Minimal"', "name = 5"))
    with pytest.raises(InputError) as raised:
        load_case(path)
    assert raised.value.issues == (
        Issue(str(path), "name", "expected a string, got an integer (5)"),
    )


def test_load_case_of_a_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load_case(tmp_path / "missing.toml")


def test_validate_case_returns_the_issues_instead_of_a_case() -> None:
    case, issues = validate_case({"format": "ccp-case/1"}, "doc")
    assert case is None
    assert {i.field for i in issues} >= {"name", "currency", "ccp", "rulebook", "members"}


def test_validate_rulebook_reports_under_the_given_path() -> None:
    rulebook, issues = validate_rulebook(
        {"waterfall": [{"kind": "ccp_capital", "amount": 1.5}]}, EUR, "risk.toml", "fund.rulebook"
    )
    assert rulebook is None
    assert [(i.file, i.field) for i in issues] == [
        ("risk.toml", "fund.rulebook.waterfall[0].amount")
    ]


def test_validate_rulebook_reads_a_valid_rulebook() -> None:
    rulebook, issues = validate_rulebook(
        {"waterfall": [{"kind": "ccp_capital", "amount": "7m", "name": "SITG"}]}, EUR, "r.toml"
    )
    assert issues == []
    assert rulebook == Rulebook(
        (Tranche(TrancheKind.CCP_CAPITAL, name="SITG", amount=Money.of(7_000_000, EUR)),)
    )
