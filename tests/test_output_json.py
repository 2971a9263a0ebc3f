"""JSON output: money is a decimal string in the currency's minor unit in every document.

Floats remain only for ratios, multipliers, weights and probabilities, named
here one by one; any other number in the risk documents is a defect.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from case_samples import EXAMPLES
from ccpwaterfall.cli import risk_commands
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.domain import currency
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import EndOfDay, end_of_day, to_money

DEMO = EXAMPLES / "demo-ccp" / "case.toml"

# Numbers that are not money: ratios, multipliers, parameters and counts.
NOT_MONEY = frozenset(
    {
        "confidence",
        "ewma_lambda",
        "apc_buffer",
        "apc_stressed_weight",
        "buffer",
        "margin_weight",
        "risk_weight",
        "capital_ratio",
        "multiplier",
        "reverse_stress_grid",
    }
)


@pytest.fixture(scope="module")
def demo_eod() -> EndOfDay:
    return end_of_day(load_risk_case(DEMO).inputs)


@pytest.fixture(scope="module")
def demo(demo_eod: EndOfDay) -> Iterator[Path]:
    """The demo risk case, its end of day computed once for the module."""
    loaded = load_risk_case(DEMO)
    eod = demo_eod
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(risk_commands, "load_risk_case", lambda _path: loaded)
        patch.setattr(risk_commands, "end_of_day", lambda _inputs, _report=None: eod)
        patch.setattr(risk_commands, "compute_margin", lambda _inputs, _report=None: eod.margin)
        yield DEMO


def _json(*args: str | Path) -> Any:
    result = CliRunner().invoke(create_app(), [*(str(a) for a in args), "--json"])
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def _floats(data: Any, path: str = "") -> list[str]:
    """The paths of every float in ``data`` outside the ``NOT_MONEY`` keys."""
    if isinstance(data, dict):
        return [
            found
            for key, value in data.items()
            if key not in NOT_MONEY
            for found in _floats(value, f"{path}.{key}")
        ]
    if isinstance(data, list):
        return [found for i, value in enumerate(data) for found in _floats(value, f"{path}[{i}]")]
    return [path] if isinstance(data, float) else []


@pytest.mark.parametrize("command", ["margin", "stress", "size-fund", "capital", "eod"])
def test_risk_json_has_no_float_money(demo: Path, command: str) -> None:
    assert _floats(_json(command, demo)) == []


def test_margin_amounts_are_cents_rounded_at_the_border(demo: Path, demo_eod: EndOfDay) -> None:
    data = _json("margin", demo)
    usd = currency("USD")
    assert data["total"] == format(to_money(demo_eod.margin.total, usd).amount, "f")
    for member in data["members"]:
        assert re.fullmatch(r"\d+\.\d\d", member["initial_margin"])


def test_fund_sizing_amounts_are_decimal_strings(demo: Path) -> None:
    data = _json("size-fund", demo)
    for key in ("size", "art42_floor", "sitg_junior", "required", "floor"):
        assert re.fullmatch(r"\d+\.\d\d", data[key]), key
    assert isinstance(data["buffer"], float)
    assert abs(Decimal(data["size"]) - Decimal(data["fund"])) < Decimal("0.01")
