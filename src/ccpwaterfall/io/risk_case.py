"""Risk cases: a CCP, its rulebook, its members' portfolios and the risk model's settings.

A risk case is a TOML file with the header of a ``ccp-case/1`` case (``format``,
``name``, ``currency``, ``description``, ``[ccp]``) and its ``[rulebook]``, but
instead of ``[[members]]`` and ``[[defaults]]`` it has:

- ``[portfolio]``: data files, paths relative to the case file: ``members``,
  ``accounts``, ``instruments``, ``positions`` (CSV or Parquet), ``history`` (a price
  history file, or ``"arch:sp500,nasdaq,wti"`` for the real series the ``arch``
  package ships) and optionally ``scenario_pnl`` (supplied per-unit P&L that
  replaces the generated historical scenarios; ``history`` may then be left out
  when there are no stress scenarios);
- ``[risk]`` (optional): ``mpor_days``, ``lookback_days``, ``volatility_filter``,
  ``ewma_lambda``, ``margin_model``, ``confidence``, ``es_worst``,
  ``anti_procyclicality``, ``apc_buffer``, ``apc_stressed_weight``,
  ``discount_rate``, ``stress_multipliers`` and ``[[risk.stress]]`` tables (``name``,
  ``shocks`` and optional ``vol_shifts``, each a table of numbers by risk factor);
- ``[fund]`` (optional): ``cover``, ``basis``, ``buffer``, ``floor``, ``cap``,
  ``sitg_junior``, ``method``, ``margin_weight``, ``minimum_contribution``,
  ``static_contribution``.

Numbers are strings (``"0.97"``) or integers, never TOML floats (the message says
to quote them), as for amounts. Amounts in ``[fund]`` are case amounts (``"100m"``)
and become floats in the case currency here, the border between exact money and
risk arrays. Every problem in the case file and in its data files is reported at
once.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from os import PathLike
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import Currency
from ccpwaterfall.io.case_file import read_toml, rulebook_warnings, validate_rulebook
from ccpwaterfall.io.checker import DocumentChecker, closest, kind_of, parse_decimal
from ccpwaterfall.io.issues import InputError, InputWarning, Issue, field_path
from ccpwaterfall.io.market_data import read_history_source
from ccpwaterfall.io.portfolio import read_portfolio, read_scenario_pnl
from ccpwaterfall.lifecycle import EndOfDayInputs
from ccpwaterfall.lifecycle.margin import STRESSED_PERIOD_DAYS, TEN_YEARS_DAYS
from ccpwaterfall.risk.margin import SPAN_SCENARIOS, k_for_confidence
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    ContributionMethod,
    CoverBasis,
    FundParams,
    MarginModel,
    MarginParams,
    ScenarioParams,
    VolatilityFilter,
)
from ccpwaterfall.risk.scenarios import StressDefinition, historical_scenarios

_TOP_KEYS = (
    "ccp", "currency", "description", "format", "fund", "name", "portfolio", "risk", "rulebook",
)  # fmt: skip
_PORTFOLIO_KEYS = (
    "accounts", "history", "instruments", "members", "positions", "scenario_pnl",
)  # fmt: skip
_PORTFOLIO_FILES = ("members", "accounts", "instruments", "positions")
_RISK_KEYS = (
    "anti_procyclicality", "apc_buffer", "apc_stressed_weight", "confidence", "discount_rate",
    "es_worst", "ewma_lambda", "lookback_days", "margin_model", "mpor_days", "stress",
    "stress_multipliers", "volatility_filter",
)  # fmt: skip
_STRESS_KEYS = ("name", "shocks", "vol_shifts")
_FUND_KEYS = (
    "basis", "cap", "cover", "buffer", "floor", "margin_weight", "method",
    "minimum_contribution", "sitg_junior", "static_contribution",
)  # fmt: skip
_FUND_AMOUNTS = ("floor", "cap", "sitg_junior", "minimum_contribution", "static_contribution")
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
        return None, [Issue(file, "portfolio", why)]
    check = _RiskChecker(file)
    check.keys(doc, _TOP_KEYS, "")
    header, ccy = check.header(doc)
    rulebook = None
    if check.present(doc, "rulebook", "", required=True) and ccy is not None:
        rulebook, rulebook_issues = validate_rulebook(doc["rulebook"], ccy, file)
        check.issues.extend(rulebook_issues)

    risk = check.table_at(doc, "risk", "", required=False) or {}
    check.keys(risk, _RISK_KEYS, "risk")
    scenario_params = check.scenario_params(risk)
    margin_params = check.margin_params(risk)
    discount_rate = check.number(risk, "discount_rate", "risk", low=-1, high=1)
    multipliers = check.multipliers(risk)
    fund = check.table_at(doc, "fund", "", required=False) or {}
    check.keys(fund, _FUND_KEYS, "fund")
    fund_params = check.fund_params(fund, ccy)

    portfolio = check.table_at(doc, "portfolio", "", required=True) or {}
    check.keys(portfolio, _PORTFOLIO_KEYS, "portfolio")
    base = path.parent
    files = {k: check.file_name(portfolio, k, required=True) for k in _PORTFOLIO_FILES}
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
        members, accounts, instruments, positions = (base / str(files[k]) for k in _PORTFOLIO_FILES)
        loaded, data_issues = read_portfolio(
            members, accounts, instruments, positions, factor_ids=factor_ids
        )
        check.issues.extend(data_issues)
    scenario_pnl = None
    if pnl_file is not None and loaded is not None:
        scenario_pnl, pnl_issues = read_scenario_pnl(base / pnl_file, loaded[1].ids)
        check.issues.extend(pnl_issues)

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
    )
    moves = (
        _historical_moves(check, inputs)
        if history is not None
        and scenario_pnl is None
        and history.n_days > scenario_params.mpor_days
        else None
    )
    warnings = [*rulebook_warnings(rulebook, file), *_runnable(check, inputs, moves)]
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
    total = float(by_account.sum()) * (1.0 + apc) * (1.0 + inputs.fund_params.buffer)
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


@dataclass(slots=True)
class _RiskChecker(DocumentChecker):
    """The checks of the tables only risk cases have: data files and model settings.

    Their whole numbers may also be written as strings of digits (``"2"``), like
    their other numbers.
    """

    def file_name(self, table: Mapping[str, object], key: str, *, required: bool) -> str | None:
        """A data file named in ``[portfolio]`` (or ``arch:...`` for ``history``)."""
        return self.string(table, key, "portfolio", required=required, non_empty=True)

    def number(
        self,
        table: Mapping[str, object],
        key: str,
        path: str,
        *,
        low: float | None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float | None:
        """A decimal number (a string or an integer; a float is an issue) in a range."""
        where = field_path(path, key)
        if key not in table:
            return None
        return self.value(
            table[key], where, low=low, high=high, low_open=low_open, high_open=high_open
        )

    def value(
        self,
        raw: object,
        where: str,
        *,
        low: float | None,
        high: float | None = None,
        low_open: bool = False,
        high_open: bool = False,
    ) -> float | None:
        parsed = self.checked(parse_decimal(raw, self.file, where))
        if parsed is None:
            return None
        number = float(parsed)
        too_low = low is not None and (number <= low if low_open else number < low)
        too_high = high is not None and (number >= high if high_open else number > high)
        if too_low or too_high:
            left = "(" if low_open else "["
            right = ")" if high_open else "]"
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            self.add(where, f"must be in {left}{lo}, {hi}{right}, got {parsed}")
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

    def scenario_params(self, risk: Mapping[str, object]) -> ScenarioParams | None:
        start = len(self.issues)
        mpor = self.integer(risk, "mpor_days", "risk", 1, digit_string=True)
        lookback = self.integer(risk, "lookback_days", "risk", 2, digit_string=True)
        vol_filter = self.choice(risk, "volatility_filter", "risk", VolatilityFilter)
        lam = self.number(risk, "ewma_lambda", "risk", low=0, high=1, low_open=True, high_open=True)
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
        confidence = self.number(risk, "confidence", "risk", low=0.5, high=1, high_open=True)
        es_worst = self.integer(risk, "es_worst", "risk", 1, digit_string=True)
        apc = self.choice(risk, "anti_procyclicality", "risk", AntiProcyclicality)
        buffer = self.number(risk, "apc_buffer", "risk", low=0.25, high=MAX_BUFFER)
        weight = self.number(risk, "apc_stressed_weight", "risk", low=0.25, high=1)
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
            self.value(v, field_path(where, i), low=0, low_open=True, high=MAX_MULTIPLIER)
            for i, v in enumerate(value)
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
        cover = self.integer(fund, "cover", "fund", 1, digit_string=True)
        basis = self.choice(fund, "basis", "fund", CoverBasis)
        method = self.choice(fund, "method", "fund", ContributionMethod)
        buffer = self.number(fund, "buffer", "fund", low=0, high=MAX_BUFFER)
        weight = self.number(fund, "margin_weight", "fund", low=0, high=1)
        amounts: dict[str, float] = {}
        for key in _FUND_AMOUNTS:
            money = self.amount(fund, key, "fund", ccy, required=False)
            if money is not None:
                # The border: exact case amounts become float risk numbers here.
                amounts[key] = float(money.amount)
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
            self.keys(item, _STRESS_KEYS, path)
            name = self.string(item, "name", path, required=True, non_empty=True)
            if name is not None and name in first_at:
                self.add(
                    field_path(path, "name"),
                    f"duplicate scenario name {name!r} (first at {first_at[name]})",
                )
            elif name is not None:
                first_at[name] = path
            shocks = self.by_factor(item, "shocks", path, factor_ids, low=None, required=True)
            shifts = self.by_factor(item, "vol_shifts", path, factor_ids, low=-1.0, required=False)
            if name is not None and len(self.issues) == start:
                found.append(StressDefinition(name, shocks, shifts))
        return tuple(found)

    def by_factor(
        self,
        item: Mapping[str, object],
        key: str,
        path: str,
        factor_ids: tuple[str, ...] | None,
        *,
        low: float | None,
        required: bool,
    ) -> tuple[tuple[str, float], ...]:
        """A table of numbers by risk factor, e.g. ``{ sp500 = "-0.25" }``."""
        what = 'a table such as { sp500 = "-0.25" }'
        table = self.table_at(item, key, path, what, required=required)
        if table is None:
            return ()
        where = field_path(path, key)
        values = []
        for factor, raw in table.items():
            at = field_path(where, factor)
            if factor_ids is not None and factor not in factor_ids:
                self.add(
                    at,
                    f"unknown risk factor {factor!r}; the price history has: "
                    f"{', '.join(factor_ids)}{closest(factor, factor_ids)}",
                )
                continue
            number = self.value(raw, at, low=low)
            if number is not None:
                values.append((factor, number))
        return tuple(values)
