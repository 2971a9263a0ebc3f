"""Writing cases as ccp-case/1 TOML: what is written reads back as the same case."""

from __future__ import annotations

import datetime as dt
import tempfile
import tomllib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from case_samples import EXAMPLES, FULL_CASE, write_case
from ccpwaterfall.domain import (
    ALLOCATIONS,
    Case,
    CoolingOff,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    currency,
)
from ccpwaterfall.domain.case import LAST_DATE
from ccpwaterfall.io import case_schema, case_to_toml, load_case
from ccpwaterfall.io.case_writer import toml_string
from waterfall_cases import EUR

# Risk cases (with a [portfolio] or [risk] table) have a loader of their own.
CASE_EXAMPLES = sorted(
    path
    for path in EXAMPLES.glob("*/case.toml")
    if not {"portfolio", "risk"} & set(tomllib.loads(path.read_text(encoding="utf-8")))
)


def reread(case: Case, directory: Path) -> Case:
    return load_case(write_case(directory, case_to_toml(case), "written.toml"))


def test_the_format_example_reads_back_equal(tmp_path: Path) -> None:
    case = load_case(write_case(tmp_path, FULL_CASE))
    assert reread(case, tmp_path) == case


def test_amounts_are_quoted_exact_strings_and_dates_toml_dates(tmp_path: Path) -> None:
    text = case_to_toml(load_case(write_case(tmp_path, FULL_CASE)))
    assert 'amount = "7000000.00"\n' in text
    assert 'initial_margin = "250000000.50"\n' in text
    assert 'cap_multiple = "2"\n' in text
    assert "date = 2018-09-11\n" in text
    doc = tomllib.loads(text)
    assert doc["defaults"][0]["date"] == dt.date(2018, 9, 11)
    assert doc["members"][2]["vm_gains"] == "2500.00"


def test_written_cases_satisfy_the_schema(tmp_path: Path) -> None:
    doc = tomllib.loads(case_to_toml(load_case(write_case(tmp_path, FULL_CASE))))
    doc["defaults"][0]["date"] = doc["defaults"][0]["date"].isoformat()
    doc["auctions"][0]["date"] = doc["auctions"][0]["date"].isoformat()
    validator = Draft202012Validator(
        case_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER
    )
    assert list(validator.iter_errors(doc)) == []


def test_strings_are_escaped(tmp_path: Path) -> None:
    awkward = 'Quote " back\\slash\nnew line\ttab \x01 \x7f \U0001f4b6 é'
    case = Case(
        name=awkward,
        currency=EUR,
        ccp_name="CCP",
        rulebook=Rulebook((Tranche(TrancheKind.DEFAULTER_MARGIN, name=awkward),)),
        members=(Member(awkward, Money.zero(EUR), Money.zero(EUR), Money.zero(EUR), awkward),),
        defaults=(Default(awkward, Money.of(1, EUR)),),
        description="",
    )
    text = case_to_toml(case)
    assert "\n".join(text.splitlines()) + "\n" == text  # no raw newline inside a string
    assert r'name = "Quote \" back\\slash\nnew line\ttab \u0001 \u007F ' in text
    assert reread(case, tmp_path) == case


def test_toml_string_escapes_every_control_character() -> None:
    for code in [*range(0x20), 0x7F]:
        written = toml_string(chr(code))
        assert tomllib.loads(f"s = {written}")["s"] == chr(code)


def test_a_lone_surrogate_cannot_be_written() -> None:
    with pytest.raises(ValueError, match="surrogate"):
        toml_string("\ud800")


def test_optional_fields_left_out_are_not_written(tmp_path: Path) -> None:
    case = Case(
        name="Plain",
        currency=currency("JPY"),
        ccp_name="JSCC",
        rulebook=Rulebook((Tranche(TrancheKind.VM_GAINS_HAIRCUT),)),
        members=(
            Member(
                "A",
                Money.of(5, currency("JPY")),
                Money.of(0, currency("JPY")),
                Money.of(0, currency("JPY")),
            ),
        ),
        defaults=(Default("A", Money.of(7, currency("JPY"))),),
    )
    text = case_to_toml(case)
    for key in ("description", "business_days_to_replenish", "cooling_off", "max_fraction"):
        assert key not in text
    assert "date" not in text
    assert 'default_fund = "5"\n' in text
    assert reread(case, tmp_path) == case


@pytest.mark.parametrize("path", CASE_EXAMPLES, ids=lambda path: path.parent.name)
def test_example_cases_read_back_equal(path: Path, tmp_path: Path) -> None:
    case = load_case(path)
    assert reread(case, tmp_path) == case


# Any case the format can hold reads back equal.

CURRENCIES = [currency(code) for code in ("EUR", "JPY", "KRW", "BHD", "CLF", "USD")]
TEXT = st.text(st.characters(codec="utf-8"), max_size=12)
NAMED = TEXT.filter(lambda text: text.strip() != "")


def amounts(ccy: Currency) -> st.SearchStrategy[Money]:
    return st.integers(0, 10**15).map(lambda units: Money.from_minor_units(units, ccy))


@st.composite
def tranches(draw: st.DrawFn, ccy: Currency) -> tuple[Tranche, ...]:
    """One tranche of a random kind; CCP capital shared pro rata comes with its partner."""
    kind = draw(st.sampled_from(TrancheKind))
    name = draw(st.none() | TEXT)
    allocation = draw(st.sampled_from(ALLOCATIONS))
    if kind == TrancheKind.CCP_CAPITAL:
        return (Tranche(kind, name, amount=draw(amounts(ccy))),)
    if kind == TrancheKind.CCP_CAPITAL_PRO_RATA:
        partner = Tranche(TrancheKind.MEMBER_DEFAULT_FUND, allocation=allocation)
        return (
            Tranche(kind, name, amount=draw(amounts(ccy)), shared_with=partner.kind),
            partner,
        )
    if kind == TrancheKind.ASSESSMENTS:
        cap = draw(st.decimals(0, 100, places=4, allow_nan=False, allow_infinity=False))
        return (Tranche(kind, name, cap_multiple=cap, allocation=allocation),)
    if kind == TrancheKind.MEMBER_DEFAULT_FUND:
        return (Tranche(kind, name, allocation=allocation),)
    if kind == TrancheKind.VM_GAINS_HAIRCUT:
        fraction = st.decimals(0, 1, places=3, allow_nan=False, allow_infinity=False)
        return (Tranche(kind, name, max_fraction=draw(st.none() | fraction)),)
    return (Tranche(kind, name),)


@st.composite
def cooling_offs(draw: st.DrawFn) -> CoolingOff:
    days = draw(st.integers(1, 60))
    longest = draw(st.none() | st.integers(days, 120))
    return CoolingOff(days, draw(st.integers(0, 30)), longest)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    ccy = draw(st.sampled_from(CURRENCIES))
    ids = draw(st.lists(NAMED, min_size=1, max_size=5, unique=True))
    members = tuple(
        Member(
            member_id,
            draw(amounts(ccy)),
            draw(amounts(ccy)),
            draw(amounts(ccy)),
            name=draw(st.none() | TEXT),
            group=draw(st.none() | NAMED),
        )
        for member_id in ids
    )
    defaulters = draw(st.lists(st.sampled_from(ids), min_size=1, unique=True))
    dated = draw(st.booleans())
    defaults = tuple(
        Default(
            member_id, draw(amounts(ccy)), draw(st.dates(max_value=LAST_DATE)) if dated else None
        )
        for member_id in defaulters
    )
    rulebook = Rulebook(
        tuple(t for pair in draw(st.lists(tranches(ccy), min_size=1, max_size=7)) for t in pair),
        draw(st.none() | st.integers(0, 30)),
        draw(st.none() | cooling_offs()),
    )
    return Case(
        name=draw(NAMED),
        currency=ccy,
        ccp_name=draw(NAMED),
        rulebook=rulebook,
        members=members,
        defaults=defaults,
        description=draw(st.none() | TEXT),
    )


@given(cases())
def test_any_case_reads_back_equal(case: Case) -> None:
    with tempfile.TemporaryDirectory() as directory:
        assert reread(case, Path(directory)) == case
