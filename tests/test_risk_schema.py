"""The JSON Schema of ccp-risk-case/1: a valid schema that agrees with the risk case loader."""

from __future__ import annotations

import copy
import json
import re
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from ccpwaterfall.cli.main import run_cli
from ccpwaterfall.io import case_schema, risk_case
from ccpwaterfall.io.risk_case import validate_risk_case
from ccpwaterfall.io.risk_schema import risk_case_schema

Doc = dict[str, Any]
DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"

DATA = {
    "members.csv": "id,name,group\nA,Bank A,G\nB,Bank B,\n",
    "accounts.csv": "id,member,kind\nA-H,A,house\nB-H,B,house\n",
    "instruments.csv": (
        "id,kind,underlying,multiplier,strike,expiry_years,volatility\n"
        "EQF,future,eq,50,,,\nOILF,future,oil,1000,,,\n"
    ),
    "positions.csv": "account,instrument,quantity\nA-H,EQF,10\nB-H,OILF,-5\n",
    "prices.csv": (
        "date,eq,oil\n2020-01-02,100,50\n2020-01-03,101,49\n2020-01-06,99,51\n"
        "2020-01-07,98,52\n2020-01-08,97,50\n"
    ),
}
# Every table and key a risk case may have (SPAN's with margin_model = "span").
FULL = """\
format = "ccp-risk-case/1"
name = "Every key"
currency = "USD"
description = "A risk case with every table"

[ccp]
name = "Test CCP"

[rulebook]
business_days_to_replenish = 2
[[rulebook.waterfall]]
kind = "defaulter_margin"
[[rulebook.waterfall]]
kind = "ccp_capital"
amount = "1m"
[[rulebook.waterfall]]
kind = "member_default_fund"

[portfolio]
members = "members.csv"
accounts = "accounts.csv"
instruments = "instruments.csv"
positions = "positions.csv"
history = "prices.csv"

[risk]
mpor_days = 1
lookback_days = "3"
volatility_filter = "ewma"
ewma_lambda = "0.94"
margin_model = "span"
confidence = "0.99"
anti_procyclicality = "buffer"
apc_buffer = "0.25"
apc_stressed_weight = "0.25"
discount_rate = "-0.01"
stress_multipliers = [1, "2.5"]

[risk.span]
vol_scan = "0.25"
extreme_multiple = 2
extreme_cover = "0.35"
intra_spread_charge = { eq = "5" }
short_option_minimum = { oil = 0 }
tiers = { EQF = "2020-03" }

[[risk.span.inter_spreads]]
legs = ["eq", "oil"]
credit = "0.5"

[[risk.stress]]
name = "Crash"
shocks = { eq = "-0.2", oil = 0 }
vol_shifts = { eq = "0.5" }

[fund]
cover = 1
basis = "beyond_own_fund"
buffer = "0.1"
floor = "1m"
cap = "1bn"
sitg_junior = 0
method = "mixed"
margin_weight = "0.5"
minimum_contribution = "10k"
static_contribution = "0"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("risk-schema")
    for name, text in DATA.items():
        (directory / name).write_text(text)
    return directory


def full_doc() -> Doc:
    return tomllib.loads(FULL)


def issues_of(doc: Doc, folder: Path) -> list[str]:
    case, issues = validate_risk_case(doc, folder / "case.toml")
    assert (case is None) == bool(issues)
    return [f"{i.field}: {i.message}" for i in issues]


def validator() -> Draft202012Validator:
    return Draft202012Validator(risk_case_schema())


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = risk_case_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["title"] == "ccp-risk-case/1"


def test_ccp_schema_risk_prints_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["schema", "--risk"]) == 0
    assert json.loads(capsys.readouterr().out) == risk_case_schema()
    assert run_cli(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "ccp-case/1"


def test_the_demo_case_validates_against_ccp_schema_risk(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run_cli(["schema", "--risk"]) == 0
    schema = json.loads(capsys.readouterr().out)
    doc = tomllib.loads(DEMO.read_text(encoding="utf-8"))
    assert list(Draft202012Validator(schema).iter_errors(doc)) == []


def test_the_rulebook_is_the_case_schemas() -> None:
    risk: dict[str, Any] = risk_case_schema()
    case: dict[str, Any] = case_schema()
    for name in ("rulebook", "cooling_off", "tranche", "amount"):
        assert risk["$defs"][name] == case["$defs"][name]
    for key in ("name", "currency", "description", "ccp"):
        assert risk["properties"][key] == case["properties"][key]


def test_a_case_with_every_key_is_valid_for_both(folder: Path) -> None:
    doc = full_doc()
    assert issues_of(doc, folder) == []
    assert list(validator().iter_errors(doc)) == []


def test_the_deprecated_format_id_is_valid_for_both_and_marked_deprecated(folder: Path) -> None:
    doc = full_doc()
    doc["format"] = "ccp-case/1"
    assert issues_of(doc, folder) == []
    assert validator().is_valid(doc)
    forms = risk_case_schema()["properties"]["format"]["anyOf"]  # type: ignore[index]
    assert [f.get("deprecated", False) for f in forms] == [False, True]


def drop(*path: str | int) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        node: Any = doc
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return mutate


def put(value: object, *path: str | int) -> Callable[[Doc], None]:
    def mutate(doc: Doc) -> None:
        node: Any = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return mutate


# Documents that break a rule the schema can state: the loader and the schema both reject them.
BROKEN = {
    "unknown top-level key": put(1, "colour"),
    "missing format": drop("format"),
    "other format": put("ccp-risk-case/2", "format"),
    "missing portfolio": drop("portfolio"),
    "missing rulebook": drop("rulebook"),
    "lower-case currency": put("usd", "currency"),
    "unknown tranche kind": put("member_fund", "rulebook", "waterfall", 2, "kind"),
    "missing positions file": drop("portfolio", "positions"),
    "blank history": put("  ", "portfolio", "history"),
    "unknown portfolio key": put("x.csv", "portfolio", "prices"),
    "mpor of zero": put(0, "risk", "mpor_days"),
    "lookback of one": put(1, "risk", "lookback_days"),
    "unknown margin model": put("span2", "risk", "margin_model"),
    "unknown filter": put("fhs", "risk", "volatility_filter"),
    "float confidence": put(0.99, "risk", "confidence"),
    "confidence of one": put(1, "risk", "confidence"),
    "negative buffer string": put("-0.5", "risk", "apc_buffer"),
    "discount rate of two": put(2, "risk", "discount_rate"),
    "empty multipliers": put([], "risk", "stress_multipliers"),
    "zero multiplier": put([0], "risk", "stress_multipliers"),
    "repeated multiplier": put([1, 1], "risk", "stress_multipliers"),
    "empty stress array": put([], "risk", "stress"),
    "stress without shocks": drop("risk", "stress", 0, "shocks"),
    "stress without name": drop("risk", "stress", 0, "name"),
    "unknown stress key": put(1, "risk", "stress", 0, "weight"),
    "float shock": put(-0.2, "risk", "stress", 0, "shocks", "eq"),
    "span with another model": put("es", "risk", "margin_model"),
    "span without a model": drop("risk", "margin_model"),
    "unknown span key": put(1, "risk", "span", "scan"),
    "vol scan above one": put(2, "risk", "span", "vol_scan"),
    "extreme multiple of zero": put(0, "risk", "span", "extreme_multiple"),
    "negative intra charge": put("-5", "risk", "span", "intra_spread_charge", "eq"),
    "float short option minimum": put(0.5, "risk", "span", "short_option_minimum", "oil"),
    "blank tier": put("", "risk", "span", "tiers", "EQF"),
    "one leg": put(["eq"], "risk", "span", "inter_spreads", 0, "legs"),
    "same legs": put(["eq", "eq"], "risk", "span", "inter_spreads", 0, "legs"),
    "credit above one": put(2, "risk", "span", "inter_spreads", 0, "credit"),
    "missing credit": drop("risk", "span", "inter_spreads", 0, "credit"),
    "empty inter spreads": put([], "risk", "span", "inter_spreads"),
    "cover of zero": put(0, "fund", "cover"),
    "unknown method": put("equal", "fund", "method"),
    "float floor": put(1.5, "fund", "floor"),
    "negative cap": put(-1, "fund", "cap"),
    "margin weight above one": put(2, "fund", "margin_weight"),
    "unknown fund key": put(1, "fund", "size"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_schema_and_the_loader_reject_the_same_broken_documents(
    name: str, folder: Path
) -> None:
    doc = copy.deepcopy(full_doc())
    BROKEN[name](doc)
    assert issues_of(doc, folder) != []
    assert not validator().is_valid(doc)


# Where an unknown key goes for each place of the document, and the schema's place.
PLACES: dict[str, tuple[tuple[str | int, ...], tuple[str, ...]]] = {
    "top": ((), ("properties",)),
    "portfolio": (("portfolio",), ("$defs", "portfolio", "properties")),
    "risk": (("risk",), ("$defs", "risk", "properties")),
    "stress": (("risk", "stress", 0), ("$defs", "stress", "properties")),
    "span": (("risk", "span"), ("$defs", "span", "properties")),
    "inter_spread": (
        ("risk", "span", "inter_spreads", 0),
        ("$defs", "inter_spread", "properties"),
    ),
    "fund": (("fund",), ("$defs", "fund", "properties")),
}


@pytest.mark.parametrize("place", sorted(PLACES))
def test_the_schema_lists_exactly_the_keys_the_loader_allows(place: str, folder: Path) -> None:
    at, in_schema = PLACES[place]
    doc = copy.deepcopy(full_doc())
    put(1, *at, "zzz_unknown")(doc)
    (issue,) = issues_of(doc, folder)
    listed = re.search(r"expected one of: ([a-z_, ]+)", issue)
    assert listed is not None, issue
    node: Any = risk_case_schema()
    for step in in_schema:
        node = node[step]
    assert set(listed.group(1).split(", ")) == set(node)


def test_the_format_reference_documents_every_key_the_loader_allows() -> None:
    text = (DEMO.parent.parent.parent / "docs" / "risk-case-format.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", text, re.MULTILINE))
    tables = (
        risk_case.PORTFOLIO_KEYS,
        risk_case.RISK_KEYS,
        risk_case.STRESS_KEYS,
        risk_case.SPAN_KEYS,
        risk_case.INTER_SPREAD_KEYS,
        risk_case.FUND_KEYS,
    )
    allowed = {key for table in tables for key in table}
    assert allowed - documented == set()
    assert documented - allowed == set()
