"""SPAN margin by combined commodity: scan risk, calendar spreads, inter-commodity credits, SOM.

A worked example, every figure derived by hand below, then the demo CCP.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from numpy.typing import NDArray

from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.lifecycle import EndOfDayInputs, compute_margin, span_risk_arrays
from ccpwaterfall.risk.instruments import InstrumentKind, Instruments, build_instruments
from ccpwaterfall.risk.margin import span_scan_risk
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    InterCommoditySpread,
    MarginModel,
    SpanParams,
)
from ccpwaterfall.risk.pricing import risk_array_pnl, unit_deltas
from ccpwaterfall.risk.scenarios import historical_scenarios
from ccpwaterfall.risk.span import span_margin

DEMO = Path(__file__).resolve().parent.parent / "examples" / "demo-ccp" / "case.toml"

# Two commodities, "eq" and "oil", both at 100,000 with a price scan range of 7,500
# (multiplier 1). Scenarios 15-16 move 2 x 7,500 = 15,000 and count 35% of it, 5,250,
# so a future's scan risk is its full 3/3 move: 7,500.
#
# EQ-C is a call struck at 200,000 and EQ-P a put struck at 1, both with zero
# volatility: worthless in every scenario (the price stays within 85,000..115,000 and
# a zero volatility stays zero), so they add no scan risk and have zero delta.
SPOT = np.asarray([100_000.0, 100_000.0])
SCAN = np.asarray([7_500.0, 7_500.0])
IDS = ("EQ-C", "EQ-F1", "EQ-F2", "EQ-P", "OIL-F1")  # sorted, as instruments are


def _instruments() -> Instruments:
    nan = math.nan
    return build_instruments(
        list(IDS),
        [
            InstrumentKind.CALL,
            InstrumentKind.FUTURE,
            InstrumentKind.FUTURE,
            InstrumentKind.PUT,
            InstrumentKind.FUTURE,
        ],
        ["eq", "eq", "eq", "eq", "oil"],
        multipliers=[1.0] * 5,
        strikes=[200_000.0, nan, nan, 1.0, nan],
        expiry_years=[0.5, nan, nan, 0.5, nan],
        volatilities=[0.0, nan, nan, 0.0, nan],
        factor_ids=["eq", "oil"],
    )


def _positions(rows: list[dict[str, float]]) -> sp.csr_matrix:
    dense = np.asarray([[row.get(i, 0.0) for i in IDS] for row in rows])
    return sp.csr_matrix(dense)


def _margin(rows: list[dict[str, float]], params: SpanParams) -> NDArray[np.float64]:
    instruments = _instruments()
    arrays = risk_array_pnl(instruments, SPOT, SCAN, np.zeros(2), horizon_days=2)
    deltas = unit_deltas(instruments, SPOT)
    result = span_margin(arrays, deltas, SPOT, instruments, _positions(rows), params)
    total: NDArray[np.float64] = np.asarray(result.total)
    return total


LONG_EQ_SHORT_OIL = {"EQ-F1": 1.0, "OIL-F1": -1.0}
CALENDAR = {"EQ-F1": 1.0, "EQ-F2": -1.0}
SHORT_OPTIONS = {"EQ-C": -2.0, "EQ-P": -1.0}
TWO_EQ_SHORT_OIL = {"EQ-F1": 2.0, "OIL-F1": -1.0}


def test_scan_risk_is_taken_per_commodity_never_netted_across_them() -> None:
    """Long one equity future, short one oil future, no spread configured.

    Moving both prices together (the old risk array) nets +7,500 against -7,500 in
    every scenario: scan risk 0. SPAN takes each commodity's worst scenario on its
    own: 7,500 (eq down 3/3) + 7,500 (oil up 3/3) = 15,000.
    """
    assert _margin([LONG_EQ_SHORT_OIL], SpanParams()) == pytest.approx([15_000.0])
    instruments = _instruments()
    arrays = risk_array_pnl(instruments, SPOT, SCAN, np.zeros(2), horizon_days=2)
    # The all-commodities scan of the same portfolio: the credit SPAN never gives.
    assert span_scan_risk(arrays, _positions([LONG_EQ_SHORT_OIL])) == pytest.approx([0.0])


def test_inter_commodity_credit_only_for_a_configured_pair() -> None:
    """A 50% eq/oil credit.

    One long eq against one short oil: net notional deltas +100,000 and -100,000,
    opposite, so 100,000 of spread: all of each leg. Each leg is credited
    0.5 x 1 x 7,500 = 3,750: 15,000 - 7,500 = 7,500.

    Two long eq against one short oil: notionals +200,000 and -100,000, 100,000 of
    spread: half the eq leg (scan risk 15,000) and all the oil leg (7,500). Credits
    0.5 x 0.5 x 15,000 = 3,750 and 0.5 x 1 x 7,500 = 3,750: 22,500 - 7,500 = 15,000.
    """
    pair = SpanParams(inter_spreads=(InterCommoditySpread(("eq", "oil"), 0.5),))
    assert _margin([LONG_EQ_SHORT_OIL, TWO_EQ_SHORT_OIL], pair) == pytest.approx(
        [7_500.0, 15_000.0]
    )
    # Both long: same direction, no spread, no credit.
    assert _margin([{"EQ-F1": 1.0, "OIL-F1": 1.0}], pair) == pytest.approx([15_000.0])


def test_intra_commodity_spread_charge_between_tiers() -> None:
    """Long EQ-F1 (tier 2019-03), short EQ-F2 (tier 2019-06).

    Scan risk moves both months together: 0. The tier deltas are +1 and -1, so the
    spread delta is min(1, 1) = 1 (currency per point, multiplier 1), charged at 300
    points: 300. Without tiers both months are one tier and net to zero delta: 0.
    """
    tiers = (("EQ-F1", "2019-03"), ("EQ-F2", "2019-06"))
    charged = SpanParams(intra_spread_charge=(("eq", 300.0),), tiers=tiers)
    assert _margin([CALENDAR], charged) == pytest.approx([300.0])
    untiered = SpanParams(intra_spread_charge=(("eq", 300.0),))
    assert _margin([CALENDAR], untiered) == pytest.approx([0.0])


def test_short_option_minimum_when_scan_risk_is_smaller() -> None:
    """Short 2 worthless calls and 1 worthless put on eq.

    Scan risk 0; the short option minimum at 50 a contract is 50 x max(2, 1) = 100.
    On the long-eq/short-oil portfolio (no options) it is 0 and scan risk stands.
    """
    som = SpanParams(short_option_minimum=(("eq", 50.0),))
    assert _margin([SHORT_OPTIONS, LONG_EQ_SHORT_OIL], som) == pytest.approx([100.0, 15_000.0])


def test_span_parameters_must_name_known_commodities_and_instruments() -> None:
    with pytest.raises(ValueError, match="unknown commodity 'gold'"):
        _margin([CALENDAR], SpanParams(intra_spread_charge=(("gold", 1.0),)))
    with pytest.raises(ValueError, match="unknown instruments: GC-F1"):
        _margin([CALENDAR], SpanParams(tiers=(("GC-F1", "2019-03"),)))


# --------------------------------------------------------------------------- the demo CCP


@pytest.fixture(scope="module")
def span_demo() -> EndOfDayInputs:
    case = load_risk_case(DEMO)
    inputs = case.inputs
    params = replace(
        inputs.margin_params,
        model=MarginModel.SPAN,
        anti_procyclicality=AntiProcyclicality.NONE,
    )
    return replace(inputs, margin_params=params)


def test_demo_span_margin_is_the_sum_of_each_commodity_scan_risk(span_demo: EndOfDayInputs) -> None:
    inputs = span_demo
    run = compute_margin(inputs)
    assert run.span is not None
    history = inputs.history
    assert history is not None
    arrays = span_risk_arrays(inputs, historical_scenarios(history, inputs.scenario_params))
    positions = inputs.portfolio.positions.tocsc()
    # Independently: each commodity's positions alone through the plain scan kernel.
    expected = np.zeros(inputs.portfolio.n_accounts)
    for factor in range(len(inputs.instruments.factor_ids)):
        mask = sp.diags((inputs.instruments.underlying == factor).astype(np.float64))
        expected += span_scan_risk(arrays, positions @ mask)
    np.testing.assert_allclose(run.account_margin, expected, rtol=1e-12)
    # Netting across commodities left 121 of 400 accounts under half of this.
    netted = span_scan_risk(arrays, positions)
    assert (netted < 0.5 * expected).sum() > 100
    assert run.span.commodity_ids == ("sp500", "nasdaq", "wti")


def test_demo_span_values_options_over_the_margin_period_of_risk(span_demo: EndOfDayInputs) -> None:
    inputs = span_demo
    history = inputs.history
    assert history is not None
    scenarios = historical_scenarios(history, inputs.scenario_params)
    arrays = span_risk_arrays(inputs, scenarios)
    options = inputs.instruments.is_option
    # Scenario 1 (price unchanged, volatility up): an option's P&L is its time decay over
    # the MPOR plus the vega gain. Two days of decay differ from one.
    one_day = span_risk_arrays(
        replace(inputs, scenario_params=replace(inputs.scenario_params, mpor_days=1)), scenarios
    )
    assert inputs.scenario_params.mpor_days == 2
    assert not np.allclose(arrays[options, 0], one_day[options, 0])


def test_span_refuses_anti_procyclicality_that_needs_historical_scenarios(
    span_demo: EndOfDayInputs,
) -> None:
    for option in (AntiProcyclicality.STRESSED_WEIGHT, AntiProcyclicality.TEN_YEAR_FLOOR):
        params = replace(span_demo.margin_params, anti_procyclicality=option)
        with pytest.raises(ValueError, match="SPAN risk arrays have none"):
            compute_margin(replace(span_demo, margin_params=params))


def test_margin_terms_say_what_set_the_count_of_worst_scenarios() -> None:
    from ccpwaterfall.reports.margin_view import margin_to_json, margin_view

    inputs = load_risk_case(DEMO).inputs
    counted = replace(inputs, margin_params=replace(inputs.margin_params, es_worst=6))
    model = margin_to_json(margin_view(counted, compute_margin(counted)))["model"]
    assert isinstance(model, dict)
    # es_worst sets the count: 6 of 2,500, not 99% (which would be 25); the
    # confidence is not what the margin was computed at.
    assert (model["es_worst"], model["confidence"]) == (6, None)
    by_confidence = margin_to_json(margin_view(inputs, compute_margin(inputs)))["model"]
    assert isinstance(by_confidence, dict)
    assert (by_confidence["es_worst"], by_confidence["confidence"]) == (25, 0.99)
