"""The JSON Schema of ccp-case/1: a valid schema that agrees with the loader."""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from case_samples import FULL_CASE, MINIMAL_CASE
from ccpwaterfall.domain import TrancheKind
from ccpwaterfall.io import case_schema, validate_case

Doc = dict[str, Any]


def to_json(value: Any) -> Any:
    """A parsed TOML value as JSON data: dates become ISO strings."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value


def validator() -> Draft202012Validator:
    return Draft202012Validator(case_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


def full_doc() -> Doc:
    return tomllib.loads(FULL_CASE)


def test_the_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = case_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_object_forbids_additional_properties() -> None:
    def objects(node: Any) -> list[dict[str, Any]]:
        if isinstance(node, dict):
            found = [node] if node.get("type") == "object" else []
            for item in node.values():
                found += objects(item)
            return found
        if isinstance(node, list):
            return [found for item in node for found in objects(item)]
        return []

    found = objects(case_schema())
    assert len(found) >= 12  # case, ccp, rulebook, cooling_off, six tranches, member, default
    assert all(obj.get("additionalProperties") is False for obj in found)


@pytest.mark.parametrize("text", [FULL_CASE, MINIMAL_CASE, MINIMAL_CASE + 'date = "2018-09-11"\n'])
def test_valid_cases_validate(text: str) -> None:
    doc = tomllib.loads(text)
    assert validate_case(doc, "c.toml")[1] == []
    assert list(validator().iter_errors(to_json(doc))) == []


def test_a_case_with_every_tranche_kind_and_integer_parameters_validates() -> None:
    doc = full_doc()
    doc["rulebook"]["waterfall"][5]["cap_multiple"] = 3
    doc["rulebook"]["waterfall"][6]["max_fraction"] = "0.25"
    doc["rulebook"]["waterfall"].append({"kind": "ccp_capital", "amount": 5_000_000})
    assert validate_case(doc, "c.toml")[1] == []
    assert validator().is_valid(to_json(doc))


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
    "risk case": put({"file": "p.csv"}, "portfolio"),
    "missing format": drop("format"),
    "other format": put("ccp-case/2", "format"),
    "empty name": put("", "name"),
    "lower-case currency": put("eur", "currency"),
    "missing ccp name": drop("ccp", "name"),
    "unknown ccp key": put(1, "ccp", "lei"),
    "missing waterfall": drop("rulebook", "waterfall"),
    "empty waterfall": put([], "rulebook", "waterfall"),
    "negative replenish days": put(-1, "rulebook", "business_days_to_replenish"),
    "zero cooling-off days": put(0, "rulebook", "cooling_off", "business_days"),
    "unknown tranche kind": put("member_fund", "rulebook", "waterfall", 4, "kind"),
    "capital without amount": drop("rulebook", "waterfall", 2, "amount"),
    "shared capital without partner": drop("rulebook", "waterfall", 3, "shared_with"),
    "unknown allocation": put("by_bid", "rulebook", "waterfall", 4, "allocation"),
    "allocation on capital": put("pro_rata", "rulebook", "waterfall", 2, "allocation"),
    "auction without tiers": drop("auctions", 0, "tiers"),
    "empty auction tier": put([[]], "auctions", 0, "tiers"),
    "amount on member fund": put("7m", "rulebook", "waterfall", 4, "amount"),
    "missing cap multiple": drop("rulebook", "waterfall", 5, "cap_multiple"),
    "negative cap multiple": put("-1", "rulebook", "waterfall", 5, "cap_multiple"),
    "float cap multiple": put(1.5, "rulebook", "waterfall", 5, "cap_multiple"),
    "max fraction above one": put("1.5", "rulebook", "waterfall", 6, "max_fraction"),
    "empty members": put([], "members"),
    "unknown member key": put("1m", "members", 0, "defualt_fund"),
    "missing member id": drop("members", 1, "id"),
    "missing default fund": drop("members", 1, "default_fund"),
    "float amount": put(1.5, "members", 1, "initial_margin"),
    "negative amount": put(-1, "members", 1, "initial_margin"),
    "garbage amount": put("lots", "members", 1, "initial_margin"),
    "spaced suffix": put("7 m", "members", 1, "initial_margin"),
    "empty group": put("", "members", 0, "group"),
    "empty defaults": put([], "defaults"),
    "missing loss": drop("defaults", 0, "loss"),
    "date-time": put(dt.datetime(2018, 9, 11, 10), "defaults", 0, "date"),
    "impossible date": put("2018-02-30", "defaults", 0, "date"),
    "date past the calendar's bound": put(dt.date(2201, 1, 1), "defaults", 0, "date"),
    "replenish days past ten years": put(2601, "rulebook", "business_days_to_replenish"),
    "cooling-off days past ten years": put(2601, "rulebook", "cooling_off", "business_days"),
    "extension past ten years": put(2601, "rulebook", "cooling_off", "extend_per_default"),
    "longest period past ten years": put(2601, "rulebook", "cooling_off", "max_business_days"),
    "cap multiple past its bound": put(1_000_000_001, "rulebook", "waterfall", 5, "cap_multiple"),
    "cap multiple string past its bound": put(
        "10000000000", "rulebook", "waterfall", 5, "cap_multiple"
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_the_schema_and_the_loader_reject_the_same_broken_documents(name: str) -> None:
    doc = copy.deepcopy(full_doc())
    BROKEN[name](doc)
    assert validate_case(doc, "c.toml")[1] != []
    assert not validator().is_valid(to_json(doc))


def schema_keys(place: str) -> set[str]:
    schema = case_schema()
    defs: dict[str, Any] = schema["$defs"]  # type: ignore[assignment]
    properties: dict[str, Any] = schema["properties"]  # type: ignore[assignment]
    if place == "case":
        return set(properties)
    if place == "ccp":
        return set(properties["ccp"]["properties"])
    if place in TrancheKind.__members__.values():
        (variant,) = [v for v in defs["tranche"]["oneOf"] if v["title"] == place]
        return set(variant["properties"])
    return set(defs[place]["properties"])


def place_of_unknown_key(place: str) -> Callable[[Doc], None]:
    """A mutation adding an unknown key at ``place``."""
    paths: dict[str, tuple[str | int, ...]] = {
        "case": (),
        "ccp": ("ccp",),
        "rulebook": ("rulebook",),
        "cooling_off": ("rulebook", "cooling_off"),
        "member": ("members", 0),
        "default": ("defaults", 0),
        "auction": ("auctions", 0),
        **{kind.value: ("rulebook", "waterfall", index) for index, kind in enumerate(TrancheKind)},
    }
    return put(1, *paths[place], "zzz_unknown")


PLACES = ["case", "ccp", "rulebook", "cooling_off", "member", "default", "auction"] + [
    kind.value for kind in TrancheKind
]


@pytest.mark.parametrize("place", PLACES)
def test_the_schema_lists_exactly_the_keys_the_loader_allows(place: str) -> None:
    doc = copy.deepcopy(full_doc())
    # The sample lists the six kinds in the order of TrancheKind.
    assert [t["kind"] for t in doc["rulebook"]["waterfall"]] == [k.value for k in TrancheKind]
    place_of_unknown_key(place)(doc)
    issues = validate_case(doc, "c.toml")[1]
    assert len(issues) == 1
    listed = re.search(r"expected one of: ([a-z_, ]+)", issues[0].message)
    assert listed is not None
    assert set(listed.group(1).split(", ")) == schema_keys(place)


def test_amount_pattern_matches_the_loader_on_strings() -> None:
    amount: dict[str, Any] = case_schema()["$defs"]["amount"]  # type: ignore[index]
    (string_form,) = [form for form in amount["anyOf"] if form["type"] == "string"]
    pattern = re.compile(string_form["pattern"])
    for text in ["7m", "1.5bn", "1.5BN", "2.5K", "107000000.00", "0"]:
        assert pattern.search(text)
    for text in ["-7m", "7 m", "1e6", ".5", "5.", "1,000", "7mm", "", "NaN"]:
        assert not pattern.search(text)
