"""The risk case key ``dtype``: scenario P&L priced and aggregated in float32, and how
close the fund and its split stay to the float64 run (docs/risk-case-format.md)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ccpwaterfall.cli.main import run_cli
from ccpwaterfall.io.issues import InputError
from ccpwaterfall.io.risk_case import RiskCase, load_risk_case
from ccpwaterfall.lifecycle import EndOfDay, end_of_day
from ccpwaterfall.lifecycle.inputs import revalue
from ccpwaterfall.lifecycle.stress import stress_scenario_set
from ccpwaterfall.risk.pricing import PnlDtype

DEMO_DIR = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp"
# The accuracy docs/risk-case-format.md states for the demo's fund and contributions.
FUND_RTOL = 1e-6


@pytest.fixture(scope="module")
def demo() -> RiskCase:
    return load_risk_case(DEMO_DIR / "case.toml")


@pytest.fixture(scope="module")
def both(demo: RiskCase) -> tuple[EndOfDay, EndOfDay]:
    single = replace(demo.inputs, dtype=PnlDtype.FLOAT32)
    return end_of_day(demo.inputs), end_of_day(single)


def _relative(got: Any, want: Any) -> float:
    got_array = np.asarray(got, dtype=np.float64)
    want_array = np.asarray(want, dtype=np.float64)
    return float(np.max(np.abs(got_array - want_array) / np.abs(want_array)))


def test_float32_fund_and_every_contribution_are_within_1e_6_of_float64(
    both: tuple[EndOfDay, EndOfDay],
) -> None:
    double, single = both
    assert _relative(single.fund.sizing.size, double.fund.sizing.size) < FUND_RTOL
    assert np.all(double.fund.contributions > 0)
    assert _relative(single.fund.contributions, double.fund.contributions) < FUND_RTOL
    # The fund is set by the same scenario and the same groups.
    assert single.fund.sizing.cover.scenario == double.fund.sizing.cover.scenario
    assert single.fund.sizing.cover.groups == double.fund.sizing.cover.groups


def test_float32_prices_in_float32_and_margins_and_exposures_stay_float64(
    demo: RiskCase, both: tuple[EndOfDay, EndOfDay]
) -> None:
    scenarios = stress_scenario_set(demo.inputs)
    priced = revalue(demo.inputs, scenarios, PnlDtype.FLOAT32)
    exact = revalue(demo.inputs, scenarios)
    assert priced.dtype == np.float32
    assert exact.dtype == np.float64
    # Single precision: about 7 significant digits of the largest P&L.
    assert np.max(np.abs(priced - exact)) <= 1e-6 * np.max(np.abs(exact))
    _, single = both
    for array in (
        single.margin.account_margin,
        single.margin.member_margin,
        single.stress.account_pnl,
        single.stress.exposures,
        single.fund.contributions,
    ):
        assert array.dtype == np.float64


@pytest.fixture
def float32_case(tmp_path: Path) -> Path:
    """The demo with ``dtype = "float32"`` in its ``[risk]`` table."""
    for source in DEMO_DIR.iterdir():
        if source.is_file():
            shutil.copy(source, tmp_path / source.name)
    case = tmp_path / "case.toml"
    text = case.read_text(encoding="utf-8")
    case.write_text(text.replace("[risk]\n", '[risk]\ndtype = "float32"\n', 1), encoding="utf-8")
    return case


def test_the_case_key_runs_ccp_eod_in_float32(
    float32_case: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_risk_case(float32_case).inputs.dtype is PnlDtype.FLOAT32
    assert load_risk_case(DEMO_DIR / "case.toml").inputs.dtype is PnlDtype.FLOAT64

    def fund_of(path: Path) -> dict[str, Any]:
        assert run_cli(["eod", str(path), "--json"]) == 0
        found: dict[str, Any] = json.loads(capsys.readouterr().out)["fund"]
        return found

    single, double = fund_of(float32_case), fund_of(DEMO_DIR / "case.toml")
    assert single["fund"] != double["fund"]  # float32 really ran: the cents differ
    assert abs(Decimal(single["fund"]) / Decimal(double["fund"]) - 1) < Decimal(FUND_RTOL)
    assert single["contributions"].keys() == double["contributions"].keys()
    for member, amount in double["contributions"].items():
        ratio = Decimal(single["contributions"][member]) / Decimal(amount)
        assert abs(ratio - 1) < Decimal(FUND_RTOL), member


def test_an_unknown_dtype_is_refused_with_the_choices(float32_case: Path) -> None:
    text = float32_case.read_text(encoding="utf-8")
    float32_case.write_text(text.replace('"float32"', '"float16"'), encoding="utf-8")
    with pytest.raises(InputError) as refused:
        load_risk_case(float32_case)
    [issue] = refused.value.issues
    assert issue.field == "risk.dtype"
    assert issue.message.startswith("unknown dtype 'float16'; expected one of: float64, float32")
