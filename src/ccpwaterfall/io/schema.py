"""The JSON Schema (draft 2020-12) of the ``ccp-case/1`` case format.

It documents the format for people and for editors that check TOML against a
schema; ``ccp schema`` prints it. TOML dates appear as strings of format
``date``. Rules a schema cannot state (unique member ids, defaults of listed
members only, dated and undated defaults not mixed, decimals within the
currency's minor unit) are in the descriptions; the loader checks them all.
"""

from __future__ import annotations

from ccpwaterfall.domain.case import LAST_DATE, MAX_BUSINESS_DAYS, MAX_CAP_MULTIPLE
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, Parameter, ParameterType, TrancheRegistry

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
AMOUNT_PATTERN = r"^[0-9]+(\.[0-9]+)?([kKmM]|[bB][nN])?$"
DECIMAL_PATTERN = r"^[0-9]+(\.[0-9]+)?$"
FRACTION_PATTERN = r"^(0(\.[0-9]+)?|1(\.0+)?)$"
# A cap multiple of at most ten digits before the point; the loader refuses above 1e9.
CAP_MULTIPLE_PATTERN = r"^[0-9]{1,10}(\.[0-9]+)?$"
# Years up to that of LAST_DATE (2200).
DATE_PATTERN = r"^([01][0-9]{3}|2[01][0-9]{2}|2200)-"
_DAYS_NOTE = f" At most {MAX_BUSINESS_DAYS} (ten years)."


def case_schema(kinds: TrancheRegistry = TRANCHE_KINDS) -> dict[str, object]:
    """The JSON Schema of a ``ccp-case/1`` document, as a new JSON-able dict.

    Each tranche kind's keys come from its spec in ``kinds``.
    """
    return {
        "$schema": SCHEMA_DIALECT,
        "title": "ccp-case/1",
        "description": (
            "A case: one CCP, its members, its rulebook (the waterfall) and one or more "
            "default events. TOML, UTF-8; unknown keys are an error."
        ),
        "type": "object",
        "properties": {
            "format": {
                "description": "The format of the file; this version reads only this value.",
                "const": "ccp-case/1",
            },
            "name": {"description": "The name of the case.", "type": "string", "minLength": 1},
            "currency": {
                "description": (
                    "ISO 4217 code in upper case; it fixes the rounding unit "
                    "(EUR 0.01, JPY 1, KRW 1)."
                ),
                "type": "string",
                "pattern": "^[A-Z]{3}$",
            },
            "description": {"description": "Optional free text.", "type": "string"},
            "ccp": {
                "description": "The central counterparty.",
                "type": "object",
                "properties": {
                    "name": {"description": "Its name.", "type": "string", "minLength": 1}
                },
                "required": ["name"],
                "additionalProperties": False,
            },
            "rulebook": {"$ref": "#/$defs/rulebook"},
            "members": {
                "description": "The clearing members ([[members]]); ids are unique.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/member"},
            },
            "defaults": {
                "description": (
                    "The defaults ([[defaults]]); entries with the same date form one event, "
                    "and if none has a date all form one event. Dated and undated entries "
                    "may not be mixed, and a member defaults at most once."
                ),
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/default"},
            },
            "auctions": {
                "description": "Auction tiers per event ([[auctions]]), for juniorisation.",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/auction"},
            },
        },
        "required": ["format", "name", "currency", "ccp", "rulebook", "members", "defaults"],
        "additionalProperties": False,
        "$defs": {
            "amount": {
                "description": (
                    "An amount of the case currency: an integer, or a string holding a decimal "
                    'number with an optional suffix k, m or bn in any case ("7m", "1.5bn", '
                    '"107000000.00"). Not a float; never negative; no more decimals than the '
                    "currency's minor unit once the suffix is applied; at most 20 digits "
                    "before the decimal point."
                ),
                "anyOf": [
                    {"type": "integer", "minimum": 0},
                    {"type": "string", "pattern": AMOUNT_PATTERN},
                ],
            },
            "rulebook": _rulebook_schema(),
            "cooling_off": _cooling_off_schema(),
            "tranche": _tranche_schema(kinds),
            "member": _member_schema(),
            "default": _default_schema(),
            "auction": _auction_schema(),
        },
    }


def _rulebook_schema() -> dict[str, object]:
    return {
        "description": "The waterfall and the rules for several events.",
        "type": "object",
        "properties": {
            "business_days_to_replenish": {
                "description": (
                    "Without a cooling-off period, the fund is replenished this many business "
                    "days after the latest event; without this key it is never replenished."
                    + _DAYS_NOTE
                ),
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_BUSINESS_DAYS,
            },
            "cooling_off": {"$ref": "#/$defs/cooling_off"},
            "waterfall": {
                "description": "The tranches, in order of use ([[rulebook.waterfall]]).",
                "type": "array",
                "minItems": 1,
                "items": {"$ref": "#/$defs/tranche"},
            },
        },
        "required": ["waterfall"],
        "additionalProperties": False,
    }


def _cooling_off_schema() -> dict[str, object]:
    return {
        "description": (
            "A period over which assessment caps are counted; the fund is replenished when it ends."
        ),
        "type": "object",
        "properties": {
            "business_days": {
                "description": "Length of the period from the event that starts it." + _DAYS_NOTE,
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_BUSINESS_DAYS,
            },
            "extend_per_default": {
                "description": (
                    "A default within the period moves its end to that default's date plus "
                    "this many business days, if later (default 0)." + _DAYS_NOTE
                ),
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_BUSINESS_DAYS,
            },
            "max_business_days": {
                "description": (
                    "The period never ends later than this many business days after its start; "
                    "at least business_days." + _DAYS_NOTE
                ),
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_BUSINESS_DAYS,
            },
        },
        "required": ["business_days"],
        "additionalProperties": False,
    }


def _parameter_schema(parameter: Parameter) -> dict[str, object]:
    """The schema of one tranche parameter, from its type in the kind's spec."""
    text = parameter.description
    if parameter.type is ParameterType.AMOUNT:
        return {"$ref": "#/$defs/amount", "description": text}
    if parameter.type is ParameterType.CHOICE:
        return {"description": text, "enum": list(parameter.choices)}
    if parameter.type is ParameterType.FRACTION:
        return {
            "description": f'{text} From 0 to 1: a string such as "0.5" or an integer.',
            "anyOf": [
                {"type": "integer", "minimum": 0, "maximum": 1},
                {"type": "string", "pattern": FRACTION_PATTERN},
            ],
        }
    return {
        "description": (
            f'{text} A decimal number (a string such as "2" or an integer), from 0 to '
            f"{MAX_CAP_MULTIPLE}."
        ),
        "anyOf": [
            {"type": "integer", "minimum": 0, "maximum": int(MAX_CAP_MULTIPLE)},
            {"type": "string", "pattern": CAP_MULTIPLE_PATTERN},
        ],
    }


def _tranche_schema(kinds: TrancheRegistry) -> dict[str, object]:
    """One variant per tranche kind, with the parameters of its spec."""
    name = {"description": "Optional display name.", "type": "string"}
    variants: list[dict[str, object]] = []
    for kind, spec in kinds.items():
        parameters = {p.name: _parameter_schema(p) for p in spec.parameters}
        variants.append(
            {
                "title": kind,
                "description": spec.description,
                "type": "object",
                "properties": {"kind": {"const": kind}, "name": name, **parameters},
                "required": ["kind", *(p.name for p in spec.parameters if p.required)],
                "additionalProperties": False,
            }
        )
    return {
        "description": "One layer of the waterfall; its kind fixes its keys.",
        "oneOf": variants,
    }


def _auction_schema() -> dict[str, object]:
    return {
        "description": (
            "The tiers a default auction left for one event, most junior first: tranches with "
            'allocation = "auction_tiers" draw on the first tier first. Survivors no tier names '
            "form one more tier after the named ones. At most one auction per event; no member "
            "twice, none a defaulter of that event or of an earlier one."
        ),
        "type": "object",
        "properties": {
            "date": {
                "description": (
                    "The date of the event it belongs to; omitted when the defaults are undated."
                ),
                "type": "string",
                "format": "date",
                "pattern": DATE_PATTERN,
            },
            "tiers": {
                "description": "Arrays of member ids, most junior first.",
                "type": "array",
                "items": {
                    "type": "array",
                    "minItems": 1,
                    "items": {"type": "string", "minLength": 1},
                },
            },
        },
        "required": ["tiers"],
        "additionalProperties": False,
    }


def _member_schema() -> dict[str, object]:
    return {
        "description": "A clearing member and the resources it has put up.",
        "type": "object",
        "properties": {
            "id": {
                "description": "Unique, case-sensitive identifier.",
                "type": "string",
                "minLength": 1,
            },
            "name": {"description": "Optional display name.", "type": "string"},
            "default_fund": {
                "$ref": "#/$defs/amount",
                "description": "Contribution to the default fund.",
            },
            "initial_margin": {
                "$ref": "#/$defs/amount",
                "description": "Initial margin collateral posted.",
            },
            "vm_gains": {
                "$ref": "#/$defs/amount",
                "description": "Variation margin gains owed to it during the default period "
                "(default 0).",
            },
            "group": {
                "description": (
                    "Affiliate group, where rules count affiliates as one (Cover-N); a member "
                    "without one is its own group."
                ),
                "type": "string",
                "minLength": 1,
            },
        },
        "required": ["id", "default_fund", "initial_margin"],
        "additionalProperties": False,
    }


def _default_schema() -> dict[str, object]:
    return {
        "description": "A member's default.",
        "type": "object",
        "properties": {
            "member": {
                "description": "The id of a listed member.",
                "type": "string",
                "minLength": 1,
            },
            "loss": {
                "$ref": "#/$defs/amount",
                "description": "Close-out loss of its portfolio, before any resource is applied.",
            },
            "date": {
                "description": (
                    "Optional date of the default: a TOML date (2018-09-11) or the same as a "
                    "string; one date, one simultaneous event. At most "
                    f"{LAST_DATE.isoformat()}."
                ),
                "type": "string",
                "format": "date",
                "pattern": DATE_PATTERN,
            },
        },
        "required": ["member", "loss"],
        "additionalProperties": False,
    }
