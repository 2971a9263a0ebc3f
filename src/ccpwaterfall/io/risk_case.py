"""Risk cases (``ccp-risk-case/1``): a CCP, its rulebook, its members' portfolios and the
risk model's settings.

A risk case is a TOML file with the header of a case (``format``, ``name``,
``currency``, ``description``, ``[ccp]``) and its ``[rulebook]``, but instead of
``[[members]]`` and ``[[defaults]]`` it has ``[portfolio]`` (its data files),
``[risk]`` with ``[[risk.stress]]`` and ``[risk.span]``, and ``[fund]``.
docs/risk-case-format.md describes every key; the key tables below (``RISK_KEYS``,
``RISK_NUMBERS``...) are what this checker allows and what the JSON Schema
(``io.risk_schema``) lists, so the two cannot drift. ``format = "ccp-case/1"``
still loads, with a warning that the id is deprecated.

Numbers are strings (``"0.97"``) or integers, never TOML floats (the message says
to quote them), as for amounts. Amounts in ``[fund]`` are case amounts (``"100m"``)
and become floats in the case currency at the one border (``lifecycle.border``).
Every problem in the case file and in its data files is reported at once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import Currency
from ccpwaterfall.io.case_file import read_toml, rulebook_warnings, validate_rulebook
from ccpwaterfall.io.checker import CASE_FORMAT, RISK_CASE_FORMAT, DocumentChecker, closest
from ccpwaterfall.io.issues import InputError, InputWarning, Issue, field_path
from ccpwaterfall.io.market_data import read_history_source
from ccpwaterfall.io.portfolio import read_portfolio, read_scenario_pnl
from ccpwaterfall.io.simulation_config import simulation_issues
from ccpwaterfall.io.values import kind_of, parse_decimal, shown
from ccpwaterfall.lifecycle import EndOfDayInputs
from ccpwaterfall.lifecycle.border import to_float
from ccpwaterfall.lifecycle.margin import STRESSED_PERIOD_DAYS, TEN_YEARS_DAYS
from ccpwaterfall.risk.margin import SPAN_SCENARIOS, k_for_confidence
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    FundParams,
    InterCommoditySpread,
    MarginModel,
    MarginParams,
    ScenarioParams,
    SpanParams,
    VolatilityFilter,
)
from ccpwaterfall.risk.pricing import PnlDtype
from ccpwaterfall.risk.scenarios import StressDefinition, historical_scenarios

# Bounds that keep every figure finite: buffers of at most 1,000%, a reverse-stress grid
# up to 1,000 times a scenario, log-return moves of at most 20 (a factor of 485 million)
# and implied volatility at most 101 times today's, once scaled by that grid.
MAX_BUFFER = 10.0
MAX_MULTIPLIER = 1000.0
MAX_LOG_MOVE = 20.0
MAX_VOL_SHIFT = 100.0
# The largest loss the positions may reach, in the case currency: money figures made
# from them (margins, contributions, a drill's losses) stay well inside the 20 digits
# of a case amount.
MAX_EXPOSURE = 1e18
# Past 2**53 minor units a float no longer holds every minor unit.
_FLOAT_EXACT = 2.0**53
_HISTORY_FACTORS = "the price history has"


@dataclass(frozen=True, slots=True)
class NumberRange:
    """The range of a decimal number key: ``low`` to ``high``, each end open or closed.

    ``None`` leaves an end unbounded. The checker and the JSON Schema
    (``io.risk_schema``) both read these, so the two cannot disagree.
    """

    low: float | None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def holds(self, number: float) -> bool:
        too_low = self.low is not None and (
            number <= self.low if self.low_open else number < self.low
        )
        too_high = self.high is not None and (
            number >= self.high if self.high_open else number > self.high
        )
        return not (too_low or too_high)

    def __str__(self) -> str:
        # An unbounded end is open: no number reaches infinity.
        left = "(" if self.low_open or self.low is None else "["
        right = ")" if self.high_open or self.high is None else "]"
        low = "-inf" if self.low is None else f"{self.low:g}"
        high = "inf" if self.high is None else f"{self.high:g}"
        return f"{left}{low}, {high}{right}"


# The keys of each table of a risk case, by what they hold. Each table's allowed
# keys are the union of its groups; the JSON Schema is generated from the same groups.
# Whole numbers give their minimum; they may also be strings of digits ("2").
RISK_WHOLE = {"mpor_days": 1, "lookback_days": 2, "es_worst": 1}
RISK_NUMBERS = {
    "ewma_lambda": NumberRange(0, 1, low_open=True, high_open=True),
    "confidence": NumberRange(0.5, 1, high_open=True),
    "apc_buffer": NumberRange(0.25, MAX_BUFFER),
    "apc_stressed_weight": NumberRange(0.25, 1),
    "discount_rate": NumberRange(-1, 1),
}
RISK_CHOICES: dict[str, type[StrEnum]] = {
    "volatility_filter": VolatilityFilter,
    "margin_model": MarginModel,
    "anti_procyclicality": AntiProcyclicality,
    "dtype": PnlDtype,
}
RISK_TABLES = ("span", "stress", "stress_multipliers")
RISK_KEYS = tuple(sorted({*RISK_WHOLE, *RISK_NUMBERS, *RISK_CHOICES, *RISK_TABLES}))
# Each multiplier of the reverse-stress grid, each stress shock and each vol shift.
MULTIPLIER_RANGE = NumberRange(0, MAX_MULTIPLIER, low_open=True)
SHOCK_RANGE = NumberRange(None)
VOL_SHIFT_RANGE = NumberRange(-1)
STRESS_KEYS = ("name", "shocks", "vol_shifts")

SPAN_NUMBERS = {
    "vol_scan": NumberRange(0, 1),
    "extreme_multiple": NumberRange(0, low_open=True),
    "extreme_cover": NumberRange(0, 1),
}
# Tables of rates by risk factor (commodity), each rate at least 0.
SPAN_RATES = ("intra_spread_charge", "short_option_minimum")
SPAN_RATE_RANGE = NumberRange(0)
SPAN_TABLES = ("inter_spreads", "tiers")
SPAN_KEYS = tuple(sorted({*SPAN_NUMBERS, *SPAN_RATES, *SPAN_TABLES}))
INTER_SPREAD_KEYS = ("credit", "legs")
CREDIT_RANGE = NumberRange(0, 1)

FUND_WHOLE = {"cover": 1}
FUND_NUMBERS = {
    "buffer": NumberRange(0, MAX_BUFFER),
    "margin_weight": NumberRange(0, 1),
}
FUND_CHOICES: dict[str, type[StrEnum]] = {"basis": CoverBasis, "method": ContributionMethod}
FUND_AMOUNTS = ("floor", "cap", "sitg_junior", "minimum_contribution", "static_contribution")
FUND_KEYS = tuple(sorted({*FUND_WHOLE, *FUND_NUMBERS, *FUND_CHOICES, *FUND_AMOUNTS}))

PORTFOLIO_FILES = ("members", "accounts", "instruments", "positions")
PORTFOLIO_KEYS = tuple(sorted({*PORTFOLIO_FILES, "history", "scenario_pnl"}))
HEADER_KEYS = ("format", "name", "currency", "description", "ccp")
TOP_TABLES = ("rulebook", "portfolio", "risk", "fund", "simulation")
TOP_KEYS = (*HEADER_KEYS, *TOP_TABLES)


@dataclass(frozen=True, slots=True, eq=False)
class RiskCase:
    """A loaded risk case: its values for the end of day, all checked, and its file.

    ``inputs.history`` is ``None`` only when ``inputs.scenario_pnl`` is supplied and
    there are no stress scenarios. Fund amounts are floats in ``inputs.currency``.
    """

    inputs: EndOfDayInputs
    source: Path
    warnings: tuple[InputWarning, ...] = ()


def load_risk_case(path: str | PathLike[str]) -> RiskCase:
    """The risk case at ``path``; ``InputError`` with every issue in it and its data files."""
    path = Path(path)
    doc, issues = read_toml(path)
    if doc is None:
        raise InputError(issues)
    case, issues = validate_risk_case(doc, path)
    if case is None:
        raise InputError(issues)
    return case


def validate_risk_case(
    doc: Mapping[str, object], path: Path
) -> tuple[RiskCase | None, list[Issue]]:
    """The risk case a parsed document describes (data files relative to ``path``)."""
    file = str(path)
    if "portfolio" not in doc:
        plain = "members" in doc or "defaults" in doc
        why = (
            "this is a plain waterfall case ([[members]] and [[defaults]]): run it with "
            "ccp run; a risk case has a [portfolio] table naming its data files instead"
            if plain
            else "missing required table: a risk case names its data files in [portfolio]"
        )
        if plain and doc.get("format") == RISK_CASE_FORMAT:
            why += f'; a plain case is format = "{CASE_FORMAT}", not {RISK_CASE_FORMAT!r}'
        return None, [Issue(file, "portfolio", why)]
    check = _RiskChecker(file)
    check.keys(doc, TOP_KEYS, "")
    header, ccy = check.header(doc)
    deprecated = (
        [
            InputWarning(
                file,
                "format",
                f"{CASE_FORMAT!r} is deprecated for risk cases: write "
                f'format = "{RISK_CASE_FORMAT}"',
            )
        ]
        if doc.get("format") == CASE_FORMAT
        else []
    )
    rulebook = None
    if check.present(doc, "rulebook", "", required=True) and ccy is not None:
        rulebook, rulebook_issues = validate_rulebook(doc["rulebook"], ccy, file)
        check.issues.extend(rulebook_issues)

    risk = check.table_at(doc, "risk", "", required=False) or {}
    check.keys(risk, RISK_KEYS, "risk")
    scenario_params = check.scenario_params(risk)
    margin_params = check.margin_params(risk)
    discount_rate = check.number(risk, "discount_rate", "risk", RISK_NUMBERS["discount_rate"])
    dtype = check.choice(risk, "dtype", "risk", PnlDtype)
    multipliers = check.multipliers(risk)
    fund = check.table_at(doc, "fund", "", required=False) or {}
    check.keys(fund, FUND_KEYS, "fund")
    fund_params = check.fund_params(fund, ccy)

    portfolio = check.table_at(doc, "portfolio", "", required=True) or {}
    check.keys(portfolio, PORTFOLIO_KEYS, "portfolio")
    base = path.parent
    files = {k: check.file_name(portfolio, k, required=True) for k in PORTFOLIO_FILES}
    pnl_file = check.file_name(portfolio, "scenario_pnl", required=False)
    has_stress = "stress" in risk
    history_source = check.file_name(portfolio, "history", required=pnl_file is None)
    if history_source is None and pnl_file is not None and has_stress:
        check.add(
            "portfolio.history",
            "stress scenarios revalue the portfolio from today's prices: name a history",
        )
    needs_history = (AntiProcyclicality.STRESSED_WEIGHT, AntiProcyclicality.TEN_YEAR_FLOOR)
    if (
        pnl_file is not None
        and margin_params is not None
        and margin_params.anti_procyclicality in needs_history
    ):
        check.add(
            "risk.anti_procyclicality",
            f"{margin_params.anti_procyclicality.value} compares margin with other periods "
            "of the price history, which a supplied scenario_pnl does not have: use none "
            "or buffer",
        )
    if (
        margin_params is not None
        and margin_params.model is MarginModel.SPAN
        and margin_params.anti_procyclicality in needs_history
    ):
        check.add(
            "risk.anti_procyclicality",
            f"{margin_params.anti_procyclicality.value} does not apply to SPAN margin: its risk "
            "arrays are 16 fixed price and volatility moves, with no historical window to "
            "stress-weight or floor; use none or buffer",
        )
    history = None
    if history_source is not None:
        history, history_issues = read_history_source(
            history_source, base, file, "portfolio.history"
        )
        check.issues.extend(history_issues)
    factor_ids = history.factor_ids if history is not None else None
    stress = check.stress(risk, factor_ids) if has_stress else ()

    loaded = None
    if all(f is not None for f in files.values()):
        members, accounts, instruments, positions = (base / str(files[k]) for k in PORTFOLIO_FILES)
        loaded, data_issues = read_portfolio(
            members, accounts, instruments, positions, factor_ids=factor_ids
        )
        check.issues.extend(data_issues)
        check.issues.extend(simulation_issues(doc, file, members, ccy))
    scenario_pnl = None
    if pnl_file is not None and loaded is not None:
        scenario_pnl, pnl_issues = read_scenario_pnl(base / pnl_file, loaded[1].ids)
        check.issues.extend(pnl_issues)
    span = None
    if "span" in risk:
        # References are checked against what was read: the history's factors, else
        # those the instruments are written on; none when that file has an issue.
        if history is not None or history_source is None:
            span_factors = factor_ids or (loaded[1].factor_ids if loaded is not None else None)
        else:
            span_factors = None
        span = check.span(
            risk,
            span_factors,
            loaded[1].ids if loaded is not None else None,
            str(files["instruments"]),
            has_history=history_source is not None,
        )

    if check.issues:
        return None, check.issues
    # With no issue every part above was read; the checks only narrow the types.
    assert header is not None
    assert rulebook is not None
    assert loaded is not None
    assert scenario_params is not None
    assert margin_params is not None
    assert fund_params is not None
    assert multipliers is not None
    if span is not None:
        margin_params = replace(margin_params, span=span)
    inputs = EndOfDayInputs(
        name=header.name,
        currency=header.currency,
        ccp_name=header.ccp_name,
        rulebook=rulebook,
        portfolio=loaded[0],
        instruments=loaded[1],
        history=history,
        scenario_pnl=scenario_pnl,
        scenario_params=scenario_params,
        margin_params=margin_params,
        fund_params=fund_params,
        stress=stress,
        stress_multipliers=multipliers,
        description=header.description,
        discount_rate=discount_rate or 0.0,
        dtype=PnlDtype(dtype or PnlDtype.FLOAT64),
    )
    moves = (
        _historical_moves(check, inputs)
        if history is not None
        and scenario_pnl is None
        and history.n_days > scenario_params.mpor_days
        else None
    )
    warnings = [*deprecated, *rulebook_warnings(rulebook, file), *_runnable(check, inputs, moves)]
    exposure = _exposure(check, inputs, moves, str(base / str(files["positions"])))
    if exposure is not None:
        warnings.append(exposure)
    if check.issues:
        return None, check.issues
    return RiskCase(inputs, source=path, warnings=tuple(warnings)), []


def _runnable(
    check: DocumentChecker, inputs: EndOfDayInputs, moves: NDArray[np.float64] | None
) -> list[InputWarning]:
    """Issues for settings the data cannot run, warnings for those it runs but thinly.

    The scenarios must exist (a history longer than the MPOR, an ES of no more
    scenarios than there are) and every price the scenarios move to must be finite.
    """
    warnings: list[InputWarning] = []
    margin = inputs.margin_params
    params = inputs.scenario_params
    history = inputs.history
    groups = inputs.portfolio.n_groups
    if inputs.fund_params.cover > groups:
        warnings.append(
            InputWarning(
                check.file,
                "fund.cover",
                f"cover {inputs.fund_params.cover} is more than the {groups} member groups: "
                f"Cover-{inputs.fund_params.cover} is the default of every group",
            )
        )
    counts: list[tuple[int, str]] = []
    if inputs.scenario_pnl is not None:
        supplied = len(inputs.scenario_pnl.scenario_names)
        counts.append((supplied, "supplied scenarios"))
        if margin.model is MarginModel.SPAN and supplied != SPAN_SCENARIOS:
            check.add(
                "portfolio.scenario_pnl",
                f"SPAN margin needs the {SPAN_SCENARIOS} scenarios of a risk array; the file "
                f"has {supplied}",
            )
    elif history is not None:
        available = history.n_days - params.mpor_days
        if available < 1:
            check.add(
                "risk.mpor_days",
                f"the price history has {history.n_days} dates: {params.mpor_days}-day moves "
                f"need at least {params.mpor_days + 1}",
            )
            return warnings
        lookback = params.lookback_days
        used = available if lookback is None else min(lookback, available)
        counts.append((used, "historical scenarios"))
        if lookback is not None and lookback > available:
            warnings.append(
                InputWarning(
                    check.file,
                    "risk.lookback_days",
                    f"{lookback} is longer than the price history, which gives {available} "
                    f"scenarios of {params.mpor_days} days: margin rests on those "
                    f"{available}{_measure(inputs, available)}",
                )
            )
        option = margin.anti_procyclicality
        if option is AntiProcyclicality.STRESSED_WEIGHT:
            counts.append(
                (min(STRESSED_PERIOD_DAYS, available), "scenarios of the stressed period")
            )
        if option is AntiProcyclicality.TEN_YEAR_FLOOR:
            counts.append((min(TEN_YEARS_DAYS, available), "scenarios of the ten-year floor"))
            if available < TEN_YEARS_DAYS:
                warnings.append(
                    InputWarning(
                        check.file,
                        "risk.anti_procyclicality",
                        f"ten_year_floor floors margin at that of a ten-year look-back "
                        f"({TEN_YEARS_DAYS} scenarios), but the price history gives only "
                        f"{available}: the floor is the margin of the whole history",
                    )
                )
    if margin.model is MarginModel.ES and margin.es_worst is not None and counts:
        fewest, what = min(counts)
        if margin.es_worst > fewest:
            check.add(
                "risk.es_worst",
                f"es_worst {margin.es_worst} is more than the {fewest} {what}: expected "
                f"shortfall is the mean of the es_worst worst, at most {fewest}",
            )
    if history is not None:
        _finite_moves(check, inputs, moves)
    return warnings


def _measure(inputs: EndOfDayInputs, n: int) -> str:
    """How margin uses ``n`` scenarios, for messages: ``; ES of the 1 worst``."""
    margin = inputs.margin_params
    if margin.model is MarginModel.ES:
        k = margin.es_worst or k_for_confidence(n, margin.confidence)
        return f"; ES is the mean of the {min(k, n)} worst"
    if margin.model is MarginModel.VAR:
        return f"; VaR is the {k_for_confidence(n, margin.confidence)}th worst"
    return ""


def _finite_moves(
    check: DocumentChecker, inputs: EndOfDayInputs, moves: NDArray[np.float64] | None
) -> None:
    """Stress shocks and historical moves, scaled by the grid, must keep prices finite.

    A shock is a log return: a price moves by exp(shock x multiplier), which
    overflows long before the shock looks absurd in a file.
    """
    history = inputs.history
    assert history is not None
    grid = max(inputs.stress_multipliers)
    spot = history.levels[-1]
    for index, scenario in enumerate(inputs.stress):
        at = field_path(field_path("risk.stress", index), "shocks")
        for factor, shock in scenario.shocks:
            level = spot[history.factor_ids.index(factor)]
            with np.errstate(over="ignore"):
                moved = level * np.exp(abs(shock) * grid)
            if abs(shock) * grid > MAX_LOG_MOVE or not np.isfinite(moved):
                check.add(
                    field_path(at, factor),
                    f"shock {shock:g} times the largest stress multiplier ({grid:g}) moves "
                    f"{factor} by a factor of exp({abs(shock) * grid:g}), which no price "
                    f"can follow: a shock times each multiplier stays within "
                    f"±{MAX_LOG_MOVE:g} (a factor of {math.exp(MAX_LOG_MOVE):.3g})",
                )
        shifts = field_path(field_path("risk.stress", index), "vol_shifts")
        for factor, shift in scenario.vol_shifts:
            if shift * grid > MAX_VOL_SHIFT:
                check.add(
                    field_path(shifts, factor),
                    f"a shift of {shift:g} times the largest stress multiplier ({grid:g}) "
                    f"is {shift * grid:g}: a volatility shift times each multiplier is at most "
                    f"{MAX_VOL_SHIFT:g} (volatility {MAX_VOL_SHIFT + 1:g} times today's)",
                )
    worst = np.abs(moves).max(axis=0) if moves is not None else np.zeros(0)
    for factor, size in zip(history.factor_ids, worst.tolist(), strict=False):
        if size > MAX_LOG_MOVE:
            check.add(
                "portfolio.history",
                f"{factor} moves by a log return of {size:g} over "
                f"{inputs.scenario_params.mpor_days} days after the "
                f"{inputs.scenario_params.volatility_filter.value} volatility filter: "
                f"prices beyond ±{MAX_LOG_MOVE:g} cannot be revalued",
            )


def _historical_moves(check: DocumentChecker, inputs: EndOfDayInputs) -> NDArray[np.float64] | None:
    """Every historical MPOR move margin may use, shape (n, n_factors), or None with an issue.

    The whole history with the case's filter (the stressed period comes from it)
    and, for the ten-year floor, without it.
    """
    history = inputs.history
    assert history is not None
    params = inputs.scenario_params
    whole = ScenarioParams(params.mpor_days, None, params.volatility_filter, params.ewma_lambda)
    try:
        moves = [historical_scenarios(history, whole).factor_returns]
    except ValueError as error:  # a GARCH fit that does not converge on this history
        check.add("risk.volatility_filter", f"cannot filter this price history: {error}")
        return None
    if inputs.margin_params.anti_procyclicality is AntiProcyclicality.TEN_YEAR_FLOOR:
        moves.append(historical_scenarios(history, ScenarioParams(params.mpor_days)).factor_returns)
    return np.vstack(moves)


def _exposure(
    check: DocumentChecker,
    inputs: EndOfDayInputs,
    moves: NDArray[np.float64] | None,
    positions: str,
) -> InputWarning | None:
    """An issue if the positions could lose more than money figures may hold; a warning
    if their amounts are past float precision.

    A generous bound of what an account can lose in any scenario: for each unit,
    twice its multiplier times the larger of its strike and the highest price its
    factor reaches (today's level moved by the largest up-move of the history or
    of a scaled stress shock), or the largest supplied P&L; then the margin and
    fund buffers on top.
    """
    if check.issues:
        return None
    instruments = inputs.instruments
    per_unit = np.zeros(len(instruments.ids))
    if inputs.scenario_pnl is not None:
        per_unit = np.abs(inputs.scenario_pnl.pnl).max(axis=1)
    history = inputs.history
    if history is not None:
        up = np.zeros(len(history.factor_ids))
        if moves is not None:
            up = np.maximum(up, moves.max(axis=0))
        grid = max(inputs.stress_multipliers)
        for scenario in inputs.stress:
            for factor, shock in scenario.shocks:
                k = history.factor_ids.index(factor)
                up[k] = max(up[k], shock * grid)
        highest = history.levels[-1] * np.exp(up)
        by_factor = [history.factor_ids.index(f) for f in instruments.factor_ids]
        price = highest[by_factor][instruments.underlying]
        priced = 2.0 * instruments.multiplier * np.fmax(price, instruments.strike)
        per_unit = np.maximum(per_unit, priced)
    by_account = abs(inputs.portfolio.positions) @ per_unit
    margin = inputs.margin_params
    apc = margin.apc_buffer if margin.anti_procyclicality is AntiProcyclicality.BUFFER else 0.0
    scale = (1.0 + apc) * (1.0 + inputs.fund_params.buffer)
    total = float(by_account.sum()) * scale
    code = inputs.currency.code
    if not math.isfinite(total) or total > MAX_EXPOSURE:
        largest = int(np.argmax(by_account))
        check.issues.append(
            Issue(
                positions,
                "",
                f"the positions could lose up to about {total:.3g} {code} (account "
                f"{inputs.portfolio.account_ids[largest]!r} alone {by_account[largest]:.3g}), "
                f"beyond the {MAX_EXPOSURE:.0e} {code} that margin, fund and drill amounts may "
                "reach: reduce the quantities",
            )
        )
        return None
    charges = float((abs(inputs.portfolio.positions) @ _span_charges(inputs)).sum()) * scale
    if not math.isfinite(total + charges) or total + charges > MAX_EXPOSURE:
        check.add(
            "risk.span",
            f"with these positions the SPAN spread charges and short option minimums could "
            f"reach about {charges:.3g} {code}, beyond the {MAX_EXPOSURE:.0e} {code} that "
            "margin, fund and drill amounts may reach: lower their rates",
        )
        return None
    total += charges
    if total * 10.0**inputs.currency.minor_unit > _FLOAT_EXACT:
        return InputWarning(
            positions,
            "",
            f"amounts of up to about {total:.3g} {code} are past float precision (every minor "
            f"unit is exact only below {_FLOAT_EXACT / 10.0**inputs.currency.minor_unit:.3g} "
            f"{code}): margin, stress and fund figures are rounded binary numbers there, not "
            "exact to the minor unit",
        )
    return None


def _span_charges(inputs: EndOfDayInputs) -> NDArray[np.float64]:
    """The most SPAN's spread charge and short option minimum can add per unit of each
    instrument, shape (n_instruments,).

    The intra-commodity charge is its rate times a spread delta, at most the
    position's delta: the multiplier, times the discount factor for an option
    (Black-76 delta is e^(-rT) N(d1)); the short option minimum is its rate per
    option. Inter-commodity credits only lower margin.
    """
    instruments = inputs.instruments
    margin = inputs.margin_params
    if margin.model is not MarginModel.SPAN:
        return np.zeros(len(instruments.ids))
    factors = instruments.factor_ids
    intra = np.zeros(len(factors))
    som = np.zeros(len(factors))
    for rates, by_factor in (
        (intra, margin.span.intra_spread_charge),
        (som, margin.span.short_option_minimum),
    ):
        for factor, rate in by_factor:
            rates[factors.index(factor)] = rate
    growth = np.where(
        instruments.is_option,
        np.exp(max(-inputs.discount_rate, 0.0) * instruments.expiry_years),
        1.0,
    )
    commodity = instruments.underlying
    charges: NDArray[np.float64] = (
        intra[commodity] * instruments.multiplier * growth + som[commodity] * instruments.is_option
    )
    return charges


@dataclass(slots=True)
class _RiskChecker(DocumentChecker):
    """The checks of the tables only risk cases have: data files and model settings.

    Their whole numbers may also be written as strings of digits (``"2"``), like
    their other numbers.
    """

    def case_format(self, doc: Mapping[str, object]) -> None:
        """An issue unless ``format`` is ``RISK_CASE_FORMAT`` (or the deprecated ``CASE_FORMAT``,
        which ``validate_risk_case`` warns about)."""
        if "format" not in doc:
            self.add("format", f'missing required key: write format = "{RISK_CASE_FORMAT}"')
            return
        value = doc["format"]
        if value not in (RISK_CASE_FORMAT, CASE_FORMAT):
            self.add(
                "format",
                f'unsupported format {shown(value)}: a risk case is format = "{RISK_CASE_FORMAT}"',
            )

    def file_name(self, table: Mapping[str, object], key: str, *, required: bool) -> str | None:
        """A data file named in ``[portfolio]`` (or ``arch:...`` for ``history``)."""
        return self.string(table, key, "portfolio", required=required, non_empty=True)

    def number(
        self,
        table: Mapping[str, object],
        key: str,
        path: str,
        bounds: NumberRange,
        *,
        required: bool = False,
    ) -> float | None:
        """A decimal number (a string or an integer; a float is an issue) in a range."""
        if not self.present(table, key, path, required=required):
            return None
        return self.value(table[key], field_path(path, key), bounds)

    def value(self, raw: object, where: str, bounds: NumberRange) -> float | None:
        parsed = self.checked(parse_decimal(raw, self.file, where))
        if parsed is None:
            return None
        number = float(parsed)
        if not bounds.holds(number):
            self.add(where, f"must be in {bounds}, got {parsed}")
            return None
        return number

    def choice(
        self, table: Mapping[str, object], key: str, path: str, kind: type[StrEnum]
    ) -> StrEnum | None:
        where = field_path(path, key)
        if key not in table:
            return None
        value = table[key]
        allowed = [m.value for m in kind]
        if not isinstance(value, str) or value not in allowed:
            hint = closest(value, allowed) if isinstance(value, str) else ""
            shown = repr(value) if isinstance(value, str) else kind_of(value)
            self.add(where, f"unknown {key} {shown}; expected one of: {', '.join(allowed)}{hint}")
            return None
        return kind(value)

    def whole(self, table: Mapping[str, object], key: str, path: str, minimum: int) -> int | None:
        """A whole number of at least ``minimum``, or a string of its digits."""
        return self.integer(table, key, path, minimum, digit_string=True)

    def scenario_params(self, risk: Mapping[str, object]) -> ScenarioParams | None:
        start = len(self.issues)
        mpor = self.whole(risk, "mpor_days", "risk", RISK_WHOLE["mpor_days"])
        lookback = self.whole(risk, "lookback_days", "risk", RISK_WHOLE["lookback_days"])
        vol_filter = self.choice(risk, "volatility_filter", "risk", VolatilityFilter)
        lam = self.number(risk, "ewma_lambda", "risk", RISK_NUMBERS["ewma_lambda"])
        if len(self.issues) > start:
            return None
        defaults = ScenarioParams()
        return ScenarioParams(
            mpor_days=defaults.mpor_days if mpor is None else mpor,
            lookback_days=lookback,
            volatility_filter=VolatilityFilter(vol_filter or defaults.volatility_filter),
            ewma_lambda=defaults.ewma_lambda if lam is None else lam,
        )

    def margin_params(self, risk: Mapping[str, object]) -> MarginParams | None:
        start = len(self.issues)
        model = self.choice(risk, "margin_model", "risk", MarginModel)
        confidence = self.number(risk, "confidence", "risk", RISK_NUMBERS["confidence"])
        es_worst = self.whole(risk, "es_worst", "risk", RISK_WHOLE["es_worst"])
        apc = self.choice(risk, "anti_procyclicality", "risk", AntiProcyclicality)
        buffer = self.number(risk, "apc_buffer", "risk", RISK_NUMBERS["apc_buffer"])
        weight = self.number(
            risk, "apc_stressed_weight", "risk", RISK_NUMBERS["apc_stressed_weight"]
        )
        if len(self.issues) > start:
            return None
        defaults = MarginParams()
        return MarginParams(
            model=MarginModel(model or defaults.model),
            confidence=defaults.confidence if confidence is None else confidence,
            es_worst=es_worst,
            anti_procyclicality=AntiProcyclicality(apc or defaults.anti_procyclicality),
            apc_buffer=defaults.apc_buffer if buffer is None else buffer,
            apc_stressed_weight=defaults.apc_stressed_weight if weight is None else weight,
        )

    def multipliers(self, risk: Mapping[str, object]) -> tuple[float, ...] | None:
        where = "risk.stress_multipliers"
        if "stress_multipliers" not in risk:
            return (1.0,)
        value = risk["stress_multipliers"]
        if not isinstance(value, list) or not value:
            self.add(where, f"expected a non-empty array such as [1, 2, 5], got {kind_of(value)}")
            return None
        start = len(self.issues)
        numbers = [
            self.value(v, field_path(where, i), MULTIPLIER_RANGE) for i, v in enumerate(value)
        ]
        if len(self.issues) > start:
            return None
        found = [n for n in numbers if n is not None]
        if len(set(found)) != len(found):
            self.add(where, "multipliers must be distinct")
            return None
        return tuple(found)

    def fund_params(self, fund: Mapping[str, object], ccy: Currency | None) -> FundParams | None:
        start = len(self.issues)
        cover = self.whole(fund, "cover", "fund", FUND_WHOLE["cover"])
        basis = self.choice(fund, "basis", "fund", CoverBasis)
        method = self.choice(fund, "method", "fund", ContributionMethod)
        buffer = self.number(fund, "buffer", "fund", FUND_NUMBERS["buffer"])
        weight = self.number(fund, "margin_weight", "fund", FUND_NUMBERS["margin_weight"])
        amounts: dict[str, float] = {}
        for key in FUND_AMOUNTS:
            money = self.amount(fund, key, "fund", ccy, required=False)
            if money is not None:
                # Exact case amounts become float risk numbers at the one border.
                amounts[key] = to_float(money)
        floor, cap = amounts.get("floor", 0.0), amounts.get("cap")
        if cap is not None and cap < floor:
            self.add("fund.cap", "cap must be at least floor")
        if len(self.issues) > start:
            return None
        defaults = FundParams()
        return FundParams(
            cover=defaults.cover if cover is None else cover,
            basis=CoverBasis(basis or defaults.basis),
            buffer=defaults.buffer if buffer is None else buffer,
            floor=floor,
            cap=cap,
            sitg_junior=amounts.get("sitg_junior", 0.0),
            method=ContributionMethod(method or defaults.method),
            margin_weight=defaults.margin_weight if weight is None else weight,
            minimum_contribution=amounts.get("minimum_contribution", 0.0),
            static_contribution=amounts.get("static_contribution", 0.0),
        )

    def stress(
        self, risk: Mapping[str, object], factor_ids: tuple[str, ...] | None
    ) -> tuple[StressDefinition, ...]:
        tables = self.tables(risk["stress"], "risk.stress", "stress scenario", "[[risk.stress]]")
        found: list[StressDefinition] = []
        first_at: dict[str, str] = {}
        for path, item in tables or ():
            start = len(self.issues)
            self.keys(item, STRESS_KEYS, path)
            name = self.string(item, "name", path, required=True, non_empty=True)
            if name is not None and name in first_at:
                self.add(
                    field_path(path, "name"),
                    f"duplicate scenario name {name!r} (first at {first_at[name]})",
                )
            elif name is not None:
                first_at[name] = path
            shocks = self.by_factor(item, "shocks", path, factor_ids, SHOCK_RANGE, required=True)
            shifts = self.by_factor(
                item, "vol_shifts", path, factor_ids, VOL_SHIFT_RANGE, required=False
            )
            if name is not None and len(self.issues) == start:
                found.append(StressDefinition(name, shocks, shifts))
        return tuple(found)

    def by_factor(
        self,
        item: Mapping[str, object],
        key: str,
        path: str,
        factor_ids: tuple[str, ...] | None,
        bounds: NumberRange,
        *,
        required: bool,
        example: str = '"-0.25"',
        source: str = _HISTORY_FACTORS,
    ) -> tuple[tuple[str, float], ...]:
        """A table of numbers by risk factor, e.g. ``{ sp500 = "-0.25" }``."""
        what = f"a table such as {{ sp500 = {example} }}"
        table = self.table_at(item, key, path, what, required=required)
        if table is None:
            return ()
        where = field_path(path, key)
        values = []
        for factor, raw in table.items():
            at = field_path(where, factor)
            if not self.factor(factor, at, factor_ids, source):
                continue
            number = self.value(raw, at, bounds)
            if number is not None:
                values.append((factor, number))
        return tuple(values)

    def factor(
        self,
        factor: str,
        where: str,
        factor_ids: tuple[str, ...] | None,
        source: str = _HISTORY_FACTORS,
    ) -> bool:
        """Whether ``factor`` is a risk factor of the case (an issue if not); unchecked
        without ``factor_ids``. ``source`` says where they come from, for the message."""
        if factor_ids is None or factor in factor_ids:
            return True
        self.add(
            where,
            f"unknown risk factor {factor!r}; {source}: "
            f"{', '.join(factor_ids)}{closest(factor, factor_ids)}",
        )
        return False

    def span(
        self,
        risk: Mapping[str, object],
        factor_ids: tuple[str, ...] | None,
        instrument_ids: tuple[str, ...] | None,
        instruments_file: str,
        *,
        has_history: bool,
    ) -> SpanParams | None:
        """``[risk.span]``: SPAN's parameters beyond its risk arrays, every reference checked.

        ``factor_ids`` and ``instrument_ids`` are what references may name (``None``:
        not checked, their file having an issue of its own): the history's factors,
        or without a history those the instruments are written on.
        """
        source = _HISTORY_FACTORS if has_history else f"{instruments_file} is written on"
        path = "risk.span"
        table = self.table_at(risk, "span", "risk", required=True)
        if table is None:
            return None
        start = len(self.issues)
        model = risk.get("margin_model", MarginParams().model.value)
        if model in tuple(MarginModel) and model != MarginModel.SPAN:
            self.add(
                path,
                f"SPAN parameters apply only to SPAN margin, and margin_model is {model!r}: "
                'set margin_model = "span" or remove [risk.span]',
            )
        self.keys(table, SPAN_KEYS, path)
        numbers = {k: self.number(table, k, path, bounds) for k, bounds in SPAN_NUMBERS.items()}
        rates = {
            key: self.by_factor(
                table,
                key,
                path,
                factor_ids,
                SPAN_RATE_RANGE,
                required=False,
                example='"5"',
                source=source,
            )
            for key in SPAN_RATES
        }
        tiers = self.tiers(table, instrument_ids, instruments_file)
        spreads = self.inter_spreads(table, factor_ids, source)
        if not has_history:
            for key in ("intra_spread_charge", "inter_spreads"):
                if key in table:
                    self.add(
                        field_path(path, key),
                        "spread charges and credits weigh positions by their deltas at today's "
                        "prices: name a history in [portfolio]",
                    )
        if len(self.issues) > start:
            return None
        defaults = SpanParams()
        vol_scan, multiple, cover = (numbers[k] for k in SPAN_NUMBERS)
        return SpanParams(
            intra_spread_charge=rates["intra_spread_charge"],
            short_option_minimum=rates["short_option_minimum"],
            inter_spreads=spreads,
            tiers=tiers,
            vol_scan=defaults.vol_scan if vol_scan is None else vol_scan,
            extreme_multiple=defaults.extreme_multiple if multiple is None else multiple,
            extreme_cover=defaults.extreme_cover if cover is None else cover,
        )

    def tiers(
        self,
        span: Mapping[str, object],
        instrument_ids: tuple[str, ...] | None,
        instruments_file: str,
    ) -> tuple[tuple[str, str], ...]:
        """``tiers``: a contract month label by instrument id."""
        path = "risk.span.tiers"
        what = 'a table of contract months by instrument such as { "CL-F1" = "2019-01" }'
        table = self.table_at(span, "tiers", "risk.span", what, required=False)
        if table is None:
            return ()
        known = frozenset(instrument_ids) if instrument_ids is not None else None
        found = []
        for instrument in table:
            if known is not None and instrument not in known:
                hint = closest(instrument, instrument_ids) if instrument_ids else ""
                self.add(
                    field_path(path, instrument),
                    f"unknown instrument {instrument!r}: {instruments_file} has no such id{hint}",
                )
                continue
            label = self.string(table, instrument, path, non_empty=True)
            if label is not None:
                found.append((instrument, label))
        return tuple(found)

    def inter_spreads(
        self, span: Mapping[str, object], factor_ids: tuple[str, ...] | None, source: str
    ) -> tuple[InterCommoditySpread, ...]:
        """``[[risk.span.inter_spreads]]``: pairs of risk factors and their credit, in
        priority order."""
        if "inter_spreads" not in span:
            return ()
        path = "risk.span.inter_spreads"
        tables = self.tables(
            span["inter_spreads"], path, "inter-commodity spread", "[[risk.span.inter_spreads]]"
        )
        found = []
        for item_path, item in tables or ():
            start = len(self.issues)
            self.keys(item, INTER_SPREAD_KEYS, item_path)
            legs = self.legs(item, item_path, factor_ids, source)
            credit = self.number(item, "credit", item_path, CREDIT_RANGE, required=True)
            if legs is not None and credit is not None and len(self.issues) == start:
                found.append(InterCommoditySpread(legs, credit))
        return tuple(found)

    def legs(
        self,
        item: Mapping[str, object],
        path: str,
        factor_ids: tuple[str, ...] | None,
        source: str,
    ) -> tuple[str, str] | None:
        """The two different risk factors of an inter-commodity spread."""
        if not self.present(item, "legs", path, required=True):
            return None
        where = field_path(path, "legs")
        value = item["legs"]
        example = 'two risk factors such as ["sp500", "nasdaq"]'
        if not isinstance(value, list):
            self.add(where, f"expected {example}, got {kind_of(value)}")
            return None
        if len(value) != 2:
            self.add(where, f"expected {example}, got {len(value)}")
            return None
        start = len(self.issues)
        for index, leg in enumerate(value):
            at = field_path(where, index)
            if not isinstance(leg, str):
                self.add(at, f"expected a risk factor id, got {kind_of(leg)}")
            else:
                self.factor(leg, at, factor_ids, source)
        if len(self.issues) > start:
            return None
        first, second = value
        if first == second:
            self.add(
                where,
                f"both legs are {first!r}: a spread is between two different risk factors",
            )
            return None
        return first, second
