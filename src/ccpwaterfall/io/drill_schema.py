"""The JSON Schema (draft 2020-12) of drill files, ``ccp-drill/1``.

``ccp drill --schema`` prints it; docs/drill-format.md describes the same keys
in prose. The header, ``[rulebook]`` and ``[[members]]`` are those of the case
schema (``io.schema.case_schema``), and each table's keys are the ones the drill
loader reads (``io.drill_file``), so neither can drift from what it allows.
A drill either describes the CCP and the book itself or names a ``risk_case``.
References (members, lots, products, instruments) and times in order are the
loader's checks.
"""

from __future__ import annotations

from collections.abc import Mapping

from ccpwaterfall.io import drill_file as keys
from ccpwaterfall.io.schema import SCHEMA_DIALECT, case_schema
from ccpwaterfall.lifecycle.drill_plan import DRILL_FORMAT, AccountKind, HedgeStage

_DEFS = "#/$defs/"
_SIGNED_AMOUNT = r"^-?[0-9]+(\.[0-9]+)?([kKmM]|[bB][nN])?$"
_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
_FRACTION = r"^[0-9]+(\.[0-9]+)?$"


def drill_schema() -> dict[str, object]:
    """The schema of ``ccp-drill/1`` files, both kinds (the book in the file, or a risk case)."""
    case = case_schema()
    case_defs = _mapping(case["$defs"])
    case_properties = _mapping(case["properties"])
    defs: dict[str, object] = {
        "amount": case_defs["amount"],
        "rulebook": case_defs["rulebook"],
        "cooling_off": case_defs["cooling_off"],
        "tranche": case_defs["tranche"],
        "member": case_defs["member"],
        "signed_amount": {
            "description": "An amount that may be negative (a mark, a delta, a price): an "
            "integer, or a decimal string with an optional minus and suffix k, m or bn.",
            "anyOf": [{"type": "integer"}, {"type": "string", "pattern": _SIGNED_AMOUNT}],
        },
        "decimal": _decimal('A decimal number (a string such as "0.25", or an integer).'),
        "time": {
            "description": "A TOML date-time with its offset, such as 2018-09-11T09:00:00Z.",
            "type": "string",
            "format": "date-time",
        },
        "account": _object(
            {
                "id": _text("The account id."),
                "kind": _choice([k.value for k in AccountKind], "house, client or omnibus."),
                "collateral": {"$ref": _DEFS + "amount"},
                "port_to": _text("A client account's back-up clearing member."),
                "accepts": {
                    "description": "Whether the back-up takes it in the window (default true).",
                    "type": "boolean",
                },
                "collateral_ported": _fraction("The share of collateral that moves with it."),
            },
            keys._ACCOUNT_KEYS,
            ("id", "kind", "collateral"),
        ),
        "product": _object(
            {
                "id": _text("The product (risk factor) id."),
                "moves": {
                    "description": "The factor's relative move on each close-out day.",
                    "type": "array",
                    "items": {"$ref": _DEFS + "decimal"},
                },
                "margin_rate": _fraction("Standalone margin per unit of absolute delta."),
                "half_spread": _fraction("Hedging cost per unit of delta traded."),
                "impact": _fraction("Market impact per unit of delta traded."),
                "active": {
                    "description": "Members active in the product and their open interest.",
                    "type": "object",
                    "additionalProperties": {"type": "integer", "minimum": 0},
                },
            },
            keys._PRODUCT_KEYS,
            ("id", "moves", "margin_rate"),
        ),
        "position": _object(
            {
                "account": _text("The account holding it."),
                "product": _text("Its product."),
                "value": {"$ref": _DEFS + "signed_amount"},
                "delta": {"$ref": _DEFS + "signed_amount"},
            },
            keys._POSITION_KEYS,
            keys._POSITION_KEYS,
        ),
        "instrument": _object(
            {"id": _text("The instrument id."), "product": _text("The product it hedges.")},
            ("id", "product"),
            ("id", "product"),
        ),
        "default": _object(
            {
                "member": _text('The defaulter ("largest" on a risk case).'),
                "margin_call": {
                    "description": 'The call it misses ("engine" on a risk case).',
                    "anyOf": [{"$ref": _DEFS + "amount"}, {"const": keys.ENGINE}],
                },
                "issued_at": {"$ref": _DEFS + "time"},
                "deadline": {"$ref": _DEFS + "time"},
                "grace_minutes": {"type": "integer", "minimum": 0},
                "declared_at": {"$ref": _DEFS + "time"},
                "regulator": _text("The addressee of the regulator's notice."),
            },
            keys._DEFAULT_KEYS,
            ("member", "margin_call", "issued_at", "deadline", "declared_at"),
        ),
        "hedging": _object(
            {
                "at": {"$ref": _DEFS + "time"},
                "stage": _choice([s.value for s in HedgeStage], "When the hedges are placed."),
                "day": {"type": "integer", "minimum": 0},
                "hedges": {
                    "type": "array",
                    "minItems": 1,
                    "items": _object(
                        {
                            "product": _text("The product hedged."),
                            "instrument": _text("The instrument traded."),
                            "ratio": _fraction("The share of the delta sold."),
                        },
                        keys._HEDGE_KEYS,
                        ("product", "instrument"),
                    ),
                },
            },
            keys._HEDGING_KEYS,
            ("at", "stage", "hedges"),
        ),
        "auction": _object(
            {
                "lots": {
                    "description": '"by_product", or the lots with their products.',
                    "anyOf": [
                        {"const": "by_product"},
                        {
                            "type": "array",
                            "items": _object(
                                {
                                    "id": _text("The lot id."),
                                    "products": {
                                        "type": "array",
                                        "minItems": 1,
                                        "items": {"type": "string"},
                                    },
                                },
                                ("id", "products"),
                                ("id", "products"),
                            ),
                        },
                    ],
                },
                "rounds": {
                    "type": "array",
                    "minItems": 1,
                    "maxItems": 2,
                    "items": _object(
                        {
                            "opens_at": {"$ref": _DEFS + "time"},
                            "deadline": {"$ref": _DEFS + "time"},
                            "day": {"type": "integer", "minimum": 0},
                        },
                        keys._ROUND_KEYS,
                        keys._ROUND_KEYS,
                    ),
                },
                "reserve_margin_multiple": _fraction("Reserve: fair value less this x margin."),
                "fallback_margin_multiple": _fraction("Forced allocation price, likewise."),
            },
            keys._AUCTION_KEYS,
            ("rounds",),
        ),
        "bid": _object(
            {
                "member": _text("The bidder."),
                "lot": _text("The lot."),
                "price": {"$ref": _DEFS + "signed_amount"},
                "at": {"$ref": _DEFS + "time"},
            },
            keys._BID_KEYS,
            keys._BID_KEYS,
        ),
        "bidding": _object(
            {
                "model": {"const": "risk_premium"},
                "premium": _fraction("The risk premium per unit of margin."),
            },
            ("model", "premium"),
            ("model", "premium"),
        ),
        "porting": {
            "description": "The porting window; on a risk case also the back-up of every client.",
            "type": "object",
            "properties": {
                "window_hours": {"type": "integer", "minimum": 0},
                "port_to": _text("The back-up clearing member (risk case)."),
                "collateral_ported": _fraction("The share of collateral that moves."),
                "refused": {"type": "array", "items": {"type": "string"}},
            },
            "additionalProperties": False,
        },
        "market": _object(
            {
                "path_start": {"type": "string", "format": "date"},
                "scenario": _text("A stress scenario of the risk case, spread over the days."),
                "days": {"type": "integer", "minimum": 1, "maximum": 250},
                "costs": {
                    "type": "object",
                    "additionalProperties": _object(
                        {"half_spread": _fraction("Half spread."), "impact": _fraction("Impact.")},
                        ("half_spread", "impact"),
                        (),
                    ),
                },
            },
            ("costs", "days", "path_start", "scenario"),
            ("days",),
        ),
    }
    common = {
        "format": {"description": "The format of the file.", "const": DRILL_FORMAT},
        "name": case_properties["name"],
        "description": case_properties["description"],
        "default": {"$ref": _DEFS + "default"},
        "porting": {"$ref": _DEFS + "porting"},
        "hedging": {"$ref": _DEFS + "hedging"},
        "auction": {"$ref": _DEFS + "auction"},
        "bids": {"type": "array", "minItems": 1, "items": {"$ref": _DEFS + "bid"}},
        "bidding": {"$ref": _DEFS + "bidding"},
    }
    own_book = {
        **common,
        "currency": case_properties["currency"],
        "ccp": case_properties["ccp"],
        "rulebook": {"$ref": _DEFS + "rulebook"},
        "members": case_properties["members"],
        "accounts": _array("account"),
        "products": _array("product"),
        "positions": _array("position"),
        "instruments": _array("instrument"),
    }
    on_risk_case = {
        **common,
        "risk_case": _text("The risk case, relative to this file."),
        "market": {"$ref": _DEFS + "market"},
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "title": DRILL_FORMAT,
        "description": "A default management drill (docs/drill-format.md): the CCP and the "
        "defaulter's book, or a risk case, and the CCP's plan.",
        "oneOf": [
            {
                "type": "object",
                "properties": own_book,
                "required": [
                    "format",
                    "name",
                    "currency",
                    "ccp",
                    "rulebook",
                    "members",
                    "default",
                    "accounts",
                    "products",
                    "positions",
                    "auction",
                ],
                "additionalProperties": False,
            },
            {
                "type": "object",
                "properties": on_risk_case,
                "required": ["format", "name", "risk_case", "default", "market", "auction"],
                "additionalProperties": False,
            },
        ],
        "$defs": defs,
    }


def _object(
    properties: Mapping[str, object], allowed: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, object]:
    if set(properties) != set(allowed):
        raise ValueError(f"schema keys {sorted(properties)} are not the loader's {sorted(allowed)}")
    return {
        "type": "object",
        "properties": dict(properties),
        "required": list(required),
        "additionalProperties": False,
    }


def _array(name: str) -> dict[str, object]:
    return {"type": "array", "minItems": 1, "items": {"$ref": _DEFS + name}}


def _text(description: str) -> dict[str, object]:
    return {"description": description, "type": "string", "minLength": 1}


def _choice(values: list[str], description: str) -> dict[str, object]:
    return {"description": description, "enum": values}


def _decimal(description: str) -> dict[str, object]:
    return {
        "description": description,
        "anyOf": [{"type": "integer"}, {"type": "string", "pattern": _DECIMAL}],
    }


def _fraction(description: str) -> dict[str, object]:
    return {
        "description": description,
        "anyOf": [{"type": "integer", "minimum": 0}, {"type": "string", "pattern": _FRACTION}],
    }


def _mapping(value: object) -> Mapping[str, object]:
    assert isinstance(value, dict)
    return value
