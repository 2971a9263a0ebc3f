"""The JSON Schema (draft 2020-12) of the ``ccp-risk-case/1`` risk case format.

``ccp schema --risk`` prints it; docs/risk-case-format.md describes the same keys
in prose. Every table's keys come from the key tables the risk case checker
reads (``io.risk_case``: ``RISK_KEYS``, ``RISK_NUMBERS``, ``SPAN_KEYS``...), with
their ranges and choices, and the header and ``[rulebook]`` are those of the case
schema (``io.schema.case_schema``), so neither can drift from what the loader
allows. A key with no description here makes the schema fail to build.

Numbers are integers or decimal strings; the range of a string cannot be
stated in a schema, so it is in the description, and the loader checks it.
References (risk factors of the history, instrument ids of the data files) and
the rules across keys are the loader's too.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from ccpwaterfall.io.checker import CASE_FORMAT, RISK_CASE_FORMAT
from ccpwaterfall.io.risk_case import (
    CREDIT_RANGE,
    FUND_AMOUNTS,
    FUND_CHOICES,
    FUND_KEYS,
    FUND_NUMBERS,
    FUND_WHOLE,
    HEADER_KEYS,
    INTER_SPREAD_KEYS,
    MULTIPLIER_RANGE,
    PORTFOLIO_FILES,
    PORTFOLIO_KEYS,
    RISK_CHOICES,
    RISK_KEYS,
    RISK_NUMBERS,
    RISK_WHOLE,
    SHOCK_RANGE,
    SPAN_KEYS,
    SPAN_NUMBERS,
    SPAN_RATE_RANGE,
    SPAN_RATES,
    STRESS_KEYS,
    TOP_KEYS,
    VOL_SHIFT_RANGE,
    NumberRange,
)
from ccpwaterfall.io.schema import DECIMAL_PATTERN, SCHEMA_DIALECT, case_schema
from ccpwaterfall.io.simulation_config import simulation_schema
from ccpwaterfall.risk.params import MarginModel
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRegistry

# A decimal string that may be negative (shocks, vol shifts, the discount rate).
SIGNED_DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
# A whole number written as a string of digits; the loader strips spaces around it.
DIGITS_PATTERN = r"^\s*[0-9]+\s*$"
# Not blank: at least one character other than a space.
NOT_BLANK_PATTERN = r"\S"
_DEFS = "#/$defs/"
# What the case schema's definitions the risk case reuses: its rulebook and amounts.
_CASE_DEFS = ("amount", "rulebook", "cooling_off", "tranche")

_PORTFOLIO_TEXT = {
    "members": "Members file: id, name (optional), group (optional affiliate group).",
    "accounts": "Accounts file: id, member, kind (house or client).",
    "instruments": (
        "Instruments file: id, kind (future, forward, call, put), underlying (a risk "
        "factor), multiplier, and for options strike, expiry_years and volatility."
    ),
    "positions": "Positions file: account, instrument, quantity (signed units).",
    "history": (
        'Price history: a CSV or Parquet file of dated factor levels, or "arch:" and '
        'the names of the series the arch package ships ("arch:sp500,nasdaq,wti"). '
        "Required unless scenario_pnl is given; stress scenarios and SPAN spreads need it."
    ),
    "scenario_pnl": (
        "Optional supplied P&L per unit (instrument, scenario, pnl), replacing the "
        "historical scenarios."
    ),
}
_RISK_TEXT = {
    "mpor_days": "Margin period of risk in business days (default 2: listed; 5 for OTC).",
    "lookback_days": "Historical scenarios margin uses, the latest first (default: all).",
    "volatility_filter": "Rescaling of historical returns to today's volatility (default none).",
    "ewma_lambda": "Decay of the EWMA volatility filter (default 0.97).",
    "margin_model": (
        "Initial margin model (default es): historical VaR, expected shortfall, or SPAN."
    ),
    "confidence": "Confidence of VaR and ES (default 0.99).",
    "es_worst": "ES is the mean of this many worst scenarios (default: from confidence).",
    "anti_procyclicality": "EMIR RTS 153/2013 Art 28 option (default none).",
    "apc_buffer": "Margin buffer of the buffer option (default 0.25).",
    "apc_stressed_weight": "Weight of stressed observations (default 0.25).",
    "discount_rate": "Continuously compounded rate for option values (default 0).",
    "dtype": (
        "Float type of the scenario P&L, priced and aggregated to accounts (default "
        "float64); margins and exposures are float64 either way."
    ),
    "stress_multipliers": (
        "Reverse-stress grid: each stress scenario scaled by each multiplier (default [1]); "
        "distinct, each above 0 and at most 1,000."
    ),
    "stress": "Hypothetical stress scenarios ([[risk.stress]]); names are unique.",
    "span": 'SPAN parameters ([risk.span]); only with margin_model = "span".',
}
_STRESS_TEXT = {
    "name": "The scenario's name, unique in the case.",
    "shocks": "Log-return shock over the MPOR by risk factor of the history.",
    "vol_shifts": "Relative implied-volatility shift by risk factor (-0.3: 30% lower).",
}
_SPAN_TEXT = {
    "vol_scan": "Relative implied-volatility scan range (default 0.25).",
    "extreme_multiple": (
        "Scenarios 15 and 16 move the price by this many scan ranges (default 2)."
    ),
    "extreme_cover": "Fraction of the extreme scenarios' P&L counted (default 0.35).",
    "intra_spread_charge": (
        "Intra-commodity (calendar) spread charge by risk factor, in price points per unit "
        "of spread delta."
    ),
    "short_option_minimum": "Short option minimum by risk factor, per short option contract.",
    "tiers": (
        "Contract month (tier) label by instrument id; instruments not named share one "
        "tier of their commodity."
    ),
    "inter_spreads": (
        "Inter-commodity spread credits ([[risk.span.inter_spreads]]), in priority order."
    ),
}
_INTER_SPREAD_TEXT = {
    "legs": "Two different risk factors of the history.",
    "credit": "Fraction of each leg's scan risk credited per spread.",
}
_FUND_TEXT = {
    "cover": "Cover-N: the fund covers the default of the N largest member groups (default 2).",
    "basis": "What a group's exposure is measured as (default loss_over_margin).",
    "buffer": "The sized fund is the need times (1 + buffer) (default 0).",
    "floor": "Smallest fund (default 0).",
    "cap": "Largest fund (default none); at least floor.",
    "sitg_junior": "Junior CCP capital deducted from the need (default 0).",
    "method": "How the fund is split among members (default stress).",
    "margin_weight": "Weight of the margin key in the mixed method (default 0.5).",
    "minimum_contribution": "Least any member contributes (default 0).",
    "static_contribution": "Each member pays the larger of this and its dynamic part (default 0).",
}


def risk_case_schema(kinds: TrancheRegistry = TRANCHE_KINDS) -> dict[str, object]:
    """The JSON Schema of a ``ccp-risk-case/1`` document, as a new JSON-able dict."""
    case = case_schema(kinds)
    case_properties = _mapping(case["properties"])
    case_defs = _mapping(case["$defs"])
    header = {key: case_properties[key] for key in HEADER_KEYS if key != "format"}
    tables = {
        "format": _format_schema(),
        "rulebook": {"$ref": _DEFS + "rulebook"},
        "portfolio": {"$ref": _DEFS + "portfolio"},
        "risk": {"$ref": _DEFS + "risk"},
        "fund": {"$ref": _DEFS + "fund"},
        "simulation": {"$ref": _DEFS + "simulation"},
    }
    properties = _in_order(TOP_KEYS, {**header, **tables})
    return {
        "$schema": SCHEMA_DIALECT,
        "title": RISK_CASE_FORMAT,
        "description": (
            "A risk case: one CCP, its rulebook, its members' portfolios as data files, and "
            "the settings of margin, stress tests and default fund sizing. TOML, UTF-8; "
            "unknown keys are an error. See docs/risk-case-format.md."
        ),
        "type": "object",
        "properties": properties,
        "required": ["format", "name", "currency", "ccp", "rulebook", "portfolio"],
        "additionalProperties": False,
        "$defs": {
            **{name: case_defs[name] for name in _CASE_DEFS},
            "portfolio": _portfolio_schema(),
            "risk": _risk_schema(),
            "stress": _stress_schema(),
            "span": _span_schema(),
            "inter_spread": _inter_spread_schema(),
            "fund": _fund_schema(),
            "simulation": simulation_schema(),
        },
    }


def _mapping(value: object) -> Mapping[str, object]:
    assert isinstance(value, dict)
    return value


def _in_order(keys: tuple[str, ...], schemas: Mapping[str, object]) -> dict[str, object]:
    """``schemas`` for exactly ``keys``: a key of the loader with no schema is an error."""
    missing = sorted(set(keys) - set(schemas))
    extra = sorted(set(schemas) - set(keys))
    if missing or extra:
        raise ValueError(f"risk case schema out of step with the loader: {missing} {extra}")
    return {key: schemas[key] for key in keys}


def _format_schema() -> dict[str, object]:
    return {
        "description": f"The format of the file: {RISK_CASE_FORMAT}.",
        "anyOf": [
            {"const": RISK_CASE_FORMAT},
            {
                "const": CASE_FORMAT,
                "deprecated": True,
                "description": (
                    f"Deprecated for risk cases: still read, with a warning to write "
                    f"{RISK_CASE_FORMAT}."
                ),
            },
        ],
    }


def _number(bounds: NumberRange, text: str) -> dict[str, object]:
    """A decimal number in ``bounds``: an integer in range, or a decimal string."""
    integer: dict[str, object] = {"type": "integer"}
    if bounds.low is not None:
        integer["exclusiveMinimum" if bounds.low_open else "minimum"] = _plain(bounds.low)
    if bounds.high is not None:
        integer["exclusiveMaximum" if bounds.high_open else "maximum"] = _plain(bounds.high)
    signed = bounds.low is None or bounds.low < 0
    string = {"type": "string", "pattern": SIGNED_DECIMAL_PATTERN if signed else DECIMAL_PATTERN}
    return {
        "description": f'{text} A decimal number (a string such as "0.5", or an integer) '
        f"in {bounds}.",
        "anyOf": [integer, string],
    }


def _plain(number: float) -> float | int:
    return int(number) if float(number).is_integer() else number


def _whole(minimum: int, text: str) -> dict[str, object]:
    return {
        "description": f'{text} A whole number of at least {minimum}, or its digits ("2").',
        "anyOf": [
            {"type": "integer", "minimum": minimum},
            {"type": "string", "pattern": DIGITS_PATTERN},
        ],
    }


def _choice(kind: type[StrEnum], text: str) -> dict[str, object]:
    return {"description": text, "enum": [member.value for member in kind]}


def _by_factor(bounds: NumberRange, text: str) -> dict[str, object]:
    """A table of numbers by risk factor id."""
    number = _number(bounds, "")
    return {
        "description": f"{text} Keys are risk factors of the price history; each value is a "
        f"decimal number in {bounds}.",
        "type": "object",
        "additionalProperties": {"anyOf": number["anyOf"]},
    }


def _object(
    keys: tuple[str, ...],
    schemas: Mapping[str, object],
    text: str,
    required: tuple[str, ...] = (),
) -> dict[str, object]:
    found: dict[str, object] = {
        "description": text,
        "type": "object",
        "properties": _in_order(keys, schemas),
        "additionalProperties": False,
    }
    if required:
        found["required"] = list(required)
    return found


def _portfolio_schema() -> dict[str, object]:
    file = {"type": "string", "pattern": NOT_BLANK_PATTERN}
    schemas = {key: {"description": _PORTFOLIO_TEXT[key], **file} for key in PORTFOLIO_KEYS}
    return _object(
        PORTFOLIO_KEYS,
        schemas,
        "The data files, CSV or Parquet, paths relative to the case file.",
        PORTFOLIO_FILES,
    )


def _risk_schema() -> dict[str, object]:
    schemas: dict[str, object] = {
        **{k: _whole(minimum, _RISK_TEXT[k]) for k, minimum in RISK_WHOLE.items()},
        **{k: _number(bounds, _RISK_TEXT[k]) for k, bounds in RISK_NUMBERS.items()},
        **{k: _choice(kind, _RISK_TEXT[k]) for k, kind in RISK_CHOICES.items()},
        "stress_multipliers": {
            "description": _RISK_TEXT["stress_multipliers"],
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": _number(MULTIPLIER_RANGE, "A multiplier."),
        },
        "stress": {
            "description": _RISK_TEXT["stress"],
            "type": "array",
            "minItems": 1,
            "items": {"$ref": _DEFS + "stress"},
        },
        "span": {"$ref": _DEFS + "span", "description": _RISK_TEXT["span"]},
    }
    found = _object(RISK_KEYS, schemas, "The risk model's settings; every key is optional.")
    # SPAN parameters mean nothing to another margin model.
    found["dependentSchemas"] = {
        "span": {
            "properties": {"margin_model": {"const": MarginModel.SPAN.value}},
            "required": ["margin_model"],
        }
    }
    return found


def _stress_schema() -> dict[str, object]:
    schemas = {
        "name": {
            "description": _STRESS_TEXT["name"],
            "type": "string",
            "pattern": NOT_BLANK_PATTERN,
        },
        "shocks": _by_factor(SHOCK_RANGE, _STRESS_TEXT["shocks"]),
        "vol_shifts": _by_factor(VOL_SHIFT_RANGE, _STRESS_TEXT["vol_shifts"]),
    }
    return _object(STRESS_KEYS, schemas, "A hypothetical stress scenario.", ("name", "shocks"))


def _span_schema() -> dict[str, object]:
    schemas: dict[str, object] = {
        **{k: _number(bounds, _SPAN_TEXT[k]) for k, bounds in SPAN_NUMBERS.items()},
        **{k: _by_factor(SPAN_RATE_RANGE, _SPAN_TEXT[k]) for k in SPAN_RATES},
        "tiers": {
            "description": _SPAN_TEXT["tiers"]
            + " Keys are instrument ids of the instruments file.",
            "type": "object",
            "additionalProperties": {"type": "string", "pattern": NOT_BLANK_PATTERN},
        },
        "inter_spreads": {
            "description": _SPAN_TEXT["inter_spreads"],
            "type": "array",
            "minItems": 1,
            "items": {"$ref": _DEFS + "inter_spread"},
        },
    }
    return _object(SPAN_KEYS, schemas, "SPAN's parameters beyond its 16-scenario risk arrays.")


def _inter_spread_schema() -> dict[str, object]:
    schemas = {
        "legs": {
            "description": _INTER_SPREAD_TEXT["legs"],
            "type": "array",
            "minItems": 2,
            "maxItems": 2,
            "uniqueItems": True,
            "items": {"type": "string"},
        },
        "credit": _number(CREDIT_RANGE, _INTER_SPREAD_TEXT["credit"]),
    }
    return _object(
        INTER_SPREAD_KEYS,
        schemas,
        "Two commodities and the credit of their spread.",
        INTER_SPREAD_KEYS,
    )


def _fund_schema() -> dict[str, object]:
    amount = {"$ref": _DEFS + "amount"}
    schemas: dict[str, object] = {
        **{k: _whole(minimum, _FUND_TEXT[k]) for k, minimum in FUND_WHOLE.items()},
        **{k: _number(bounds, _FUND_TEXT[k]) for k, bounds in FUND_NUMBERS.items()},
        **{k: _choice(kind, _FUND_TEXT[k]) for k, kind in FUND_CHOICES.items()},
        **{k: {**amount, "description": _FUND_TEXT[k]} for k in FUND_AMOUNTS},
    }
    return _object(FUND_KEYS, schemas, "Default fund sizing (Cover-N) and its split; optional.")
