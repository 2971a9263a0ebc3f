"""A CCP's end of day: margin, stress tests, Cover-N fund sizing, and default drills.

The steps, each a pure function of the step before:

1. ``compute_margin``: scenario P&L of every instrument (historical MPOR-day
   moves of the real price history, optionally volatility-filtered, or a
   supplied P&L), aggregated to accounts, initial margin per account, summed
   per member.
2. ``compute_stress``: the hypothetical stress scenarios revalued, each
   account's stress loss over its own margin (client collateral never offsets
   house losses), summed per member group (affiliates count as one): the
   exposures behind Cover-1, Cover-2 and the EMIR Art 42(3) floor.
3. ``size_fund``: the default fund sized to Cover-N and split among members.
4. ``drill_defaults``: for every stress scenario, its Cover-N groups default
   and the loss runs through the rulebook's waterfall, exactly, in ``Money``.
5. ``reverse_stress_grid``: how far each stress scenario can be scaled before
   the prefunded waterfall is exhausted.

Floats become money only in ``border.to_money``, when a drill writes its case.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ccpwaterfall.domain import (
    Case,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    TrancheKind,
    split_pro_rata,
)
from ccpwaterfall.lifecycle.border import to_money
from ccpwaterfall.risk.aggregate import account_pnl, sum_by_index
from ccpwaterfall.risk.fund import (
    FundSizing,
    SizingConstraint,
    allocate_contributions,
    size_default_fund,
)
from ccpwaterfall.risk.instruments import Instruments
from ccpwaterfall.risk.margin import initial_margin, k_for_confidence
from ccpwaterfall.risk.params import (
    AntiProcyclicality,
    CoverBasis,
    FundParams,
    MarginModel,
    MarginParams,
    ScenarioParams,
    VolatilityFilter,
)
from ccpwaterfall.risk.portfolio import Portfolio
from ccpwaterfall.risk.pricing import instrument_pnl, risk_array_pnl, unit_deltas
from ccpwaterfall.risk.reverse_stress import ReverseStress, reverse_stress
from ccpwaterfall.risk.scenarios import (
    PriceHistory,
    ScenarioPnl,
    ScenarioSet,
    StressDefinition,
    historical_scenarios,
    scale_each,
    scale_scenarios,
    stress_set,
)
from ccpwaterfall.risk.span import SpanMargin, span_margin
from ccpwaterfall.risk.stress import (
    CoverResult,
    account_shortfall,
    beyond_own_fund,
    cover,
    emir_art42_floor,
    group_exposures,
    rank_groups,
)
from ccpwaterfall.waterfall import CaseResult, run_case

Progress = Callable[[str], None]

# A stressed period is one year of business days, as in Prisma's 250 stress-period dates.
STRESSED_PERIOD_DAYS = 250
# The Art 28(c) floor looks back ten years of business days.
TEN_YEARS_DAYS = 2520
# Basis-dependent sizing converges geometrically; this bounds the rounds.
MAX_SIZING_ROUNDS = 100
_UNFILTERED = VolatilityFilter.NONE


def _quiet(_step: str) -> None:
    """A progress callback that reports nothing."""


@dataclass(frozen=True, slots=True, eq=False)
class EndOfDayInputs:
    """Everything an end of day needs, as risk-layer values (no files).

    ``history`` may be None only when ``scenario_pnl`` is supplied and there are
    no stress scenarios.
    """

    name: str
    currency: Currency
    ccp_name: str
    rulebook: Rulebook
    portfolio: Portfolio
    instruments: Instruments
    history: PriceHistory | None
    scenario_pnl: ScenarioPnl | None
    scenario_params: ScenarioParams
    margin_params: MarginParams
    fund_params: FundParams
    stress: tuple[StressDefinition, ...]
    stress_multipliers: tuple[float, ...]
    discount_rate: float = 0.0  # discounts option values
    description: str | None = None

    @property
    def spot(self) -> NDArray[np.float64]:
        """Today's factor levels: the last day of the history, shape (n_factors,)."""
        if self.history is None:
            raise ValueError("there is no price history to revalue instruments on")
        today: NDArray[np.float64] = self.history.levels[-1]
        return today


@dataclass(frozen=True, slots=True, eq=False)
class MarginRun:
    """Initial margin of every account and member.

    ``account_margin``: shape (n_accounts,); ``member_margin``: shape
    (n_members,); ``group_margin``: shape (n_groups,); float64 in the case
    currency, read-only.
    """

    model: MarginModel
    scenario_names: tuple[str, ...]
    account_margin: NDArray[np.float64]
    member_margin: NDArray[np.float64]
    group_margin: NDArray[np.float64]
    es_worst: int | None = None  # ES: the count of worst scenarios averaged
    span: SpanMargin | None = None  # SPAN: the parts of each account's margin

    @property
    def total(self) -> float:
        return float(self.account_margin.sum())


@dataclass(frozen=True, slots=True, eq=False)
class StressRun:
    """Stress losses over margin, by account, member and group.

    ``account_pnl``: shape (n_accounts, n_scenarios), gains positive.
    ``member_exposures``: shape (n_members, n_scenarios); ``exposures``:
    shape (n_groups, n_scenarios): stress loss over margin, >= 0.
    """

    scenario_names: tuple[str, ...]
    account_pnl: NDArray[np.float64]
    member_exposures: NDArray[np.float64]
    exposures: NDArray[np.float64]
    cover1: CoverResult
    cover2: CoverResult
    art42_floor: CoverResult


@dataclass(frozen=True, slots=True, eq=False)
class FundRun:
    """A sized fund and each member's contribution (float and exact money).

    ``contributions``: shape (n_members,), float64. ``contributions_money``:
    the same in money: the fund (their float sum) rounded once at the border and
    split pro rata to them, so ``fund_money``, their sum, is that rounded fund.
    ``cover_beyond_own_fund``: Cover-N measured beyond each group's own
    contribution (BoE 2024 SST selection), given these contributions.
    """

    sizing: FundSizing
    contributions: NDArray[np.float64]
    contributions_money: tuple[Money, ...]
    group_fund: NDArray[np.float64]
    cover_beyond_own_fund: CoverResult
    rounds: int
    converged: bool = True  # False: the beyond-own-fund sizing did not settle

    @property
    def fund_money(self) -> Money:
        total = Money.zero(self.contributions_money[0].currency)
        for amount in self.contributions_money:
            total += amount
        return total


@dataclass(frozen=True, slots=True, eq=False)
class Drill:
    """One stress scenario's Cover-N default run through the waterfall."""

    scenario: int
    scenario_name: str
    groups: tuple[str, ...]
    defaulters: tuple[str, ...]
    case: Case
    result: CaseResult

    @property
    def deepest_tranche(self) -> str:
        """The last tranche the loss reached, or ``uncovered`` beyond the waterfall."""
        event = self.result.events[0]
        if not event.uncovered.is_zero():
            return "uncovered"
        used = [t.name for t in event.tranches if not t.used.is_zero()]
        return used[-1] if used else "none"

    @property
    def loss(self) -> Money:
        return self.result.events[0].loss


@dataclass(frozen=True, slots=True, eq=False)
class EndOfDay:
    """The whole end of day: margin, stress, fund, drills and reverse stress."""

    inputs: EndOfDayInputs
    margin: MarginRun
    stress: StressRun
    fund: FundRun
    drills: tuple[Drill, ...]
    reverse: ReverseStress | None

    @property
    def worst_drill(self) -> Drill:
        """The drill of the scenario that sets Cover-N: the worst Cover-N default."""
        scenario = self.fund.sizing.cover.scenario
        return next(d for d in self.drills if d.scenario == scenario)


def _read_only(array: NDArray[Any]) -> NDArray[Any]:
    array.flags.writeable = False
    return array


def _by_index(values: NDArray[np.float64], index: NDArray[np.intp], n_out: int) -> Any:
    """Sums of a vector over an index (accounts to members, members to groups)."""
    return sum_by_index(np.asarray(values, dtype=np.float64), index, n_out)


def _stressed_period(scenarios: ScenarioSet, days: int) -> ScenarioSet:
    """The ``days`` consecutive scenarios with the largest mean absolute move.

    The stressed observations of EMIR RTS 153/2013 Art 28(b), found with a
    rolling sum (no loop over days).
    """
    size = np.abs(scenarios.factor_returns).sum(axis=1)
    window = min(days, size.shape[0])
    rolling = np.convolve(size, np.ones(window), mode="valid")
    start = int(np.argmax(rolling))
    chosen = slice(start, start + window)
    return ScenarioSet(
        names=scenarios.names[chosen],
        factor_ids=scenarios.factor_ids,
        factor_returns=scenarios.factor_returns[chosen],
        vol_shifts=scenarios.vol_shifts[chosen],
        kind=scenarios.kind,
    )


def stressed_scenarios(inputs: EndOfDayInputs) -> ScenarioSet:
    """The stressed observations of EMIR RTS 153/2013 Art 28(1)(b), as they happened.

    The stressed period is chosen on, and its scenarios taken from, the raw
    history: a volatility filter would rescale the crisis to today's calm and
    so remove the stress the option exists to add.
    """
    if inputs.history is None:
        raise ValueError("stressed observations need a price history")
    raw = replace(inputs.scenario_params, lookback_days=None, volatility_filter=_UNFILTERED)
    return _stressed_period(historical_scenarios(inputs.history, raw), STRESSED_PERIOD_DAYS)


def ten_year_scenarios(inputs: EndOfDayInputs) -> ScenarioSet:
    """The ten-year look-back of EMIR RTS 153/2013 Art 28(1)(c), unfiltered.

    Art 28(1)(c) floors margin at that of volatility estimated over ten years:
    the long-run volatility of the raw returns, deliberately not rescaled to
    today's (which is what the margin it floors already uses).
    """
    if inputs.history is None:
        raise ValueError("the ten-year floor needs a price history")
    raw = replace(
        inputs.scenario_params, lookback_days=TEN_YEARS_DAYS, volatility_filter=_UNFILTERED
    )
    return historical_scenarios(inputs.history, raw)


def _revalue(inputs: EndOfDayInputs, scenarios: ScenarioSet) -> NDArray[np.float64]:
    return instrument_pnl(
        inputs.instruments,
        inputs.spot,
        scenarios,
        inputs.scenario_params.mpor_days,
        inputs.discount_rate,
    )


def span_risk_arrays(inputs: EndOfDayInputs, history_scenarios: ScenarioSet) -> NDArray[np.float64]:
    """16-scenario risk arrays with each factor's price scan range set from history.

    The scan range is the factor's move at the margin confidence over the MPOR
    (a quantile of the absolute historical MPOR-day log returns), as a CCP
    calibrates it, and options are revalued at the end of that same MPOR.
    """
    spot = inputs.spot
    span = inputs.margin_params.span
    move = np.quantile(
        np.abs(history_scenarios.factor_returns), inputs.margin_params.confidence, axis=0
    )
    # Keep the extreme down move above zero, whatever the history did.
    scan = np.minimum(spot * (1.0 - np.exp(-move)), 0.45 * spot / span.extreme_multiple)
    return risk_array_pnl(
        inputs.instruments,
        spot,
        scan,
        np.full(spot.shape, span.vol_scan),
        extreme_multiple=span.extreme_multiple,
        cover_fraction=span.extreme_cover,
        horizon_days=inputs.scenario_params.mpor_days,
        rate=inputs.discount_rate,
    )


def _span(inputs: EndOfDayInputs, risk_arrays: NDArray[np.float64]) -> SpanMargin:
    """SPAN margin per account and commodity from the instruments' risk arrays."""
    params = inputs.margin_params.span
    instruments = inputs.instruments
    if inputs.history is not None:
        spot = inputs.spot
        deltas = unit_deltas(instruments, spot, inputs.discount_rate)
    elif params.intra_spread_charge or params.inter_spreads:
        raise ValueError("SPAN spread charges and credits need a price history for deltas")
    else:
        spot = np.ones(len(instruments.factor_ids))
        deltas = np.zeros(len(instruments.ids))
    return span_margin(risk_arrays, deltas, spot, instruments, inputs.portfolio.positions, params)


def compute_margin(inputs: EndOfDayInputs, progress: Progress = _quiet) -> MarginRun:
    """Initial margin per account from historical (or supplied) scenario P&L, or SPAN."""
    params = inputs.margin_params
    positions = inputs.portfolio.positions
    stressed: NDArray[np.float64] | None = None
    long_history: NDArray[np.float64] | None = None
    span: SpanMargin | None = None
    es_worst: int | None = None
    option = params.anti_procyclicality
    needs_history = option in (
        AntiProcyclicality.STRESSED_WEIGHT,
        AntiProcyclicality.TEN_YEAR_FLOOR,
    )
    if params.model is MarginModel.SPAN and needs_history:
        raise ValueError(
            f"anti-procyclicality {option.value} needs historical scenarios; SPAN risk "
            "arrays have none to weight or floor (use the buffer)"
        )
    if inputs.scenario_pnl is not None:
        progress("scenario P&L (supplied)")
        names = inputs.scenario_pnl.scenario_names
        pnl = inputs.scenario_pnl.pnl
        if needs_history:
            raise ValueError(
                f"anti-procyclicality {option.value} needs a price "
                "history, not a supplied scenario P&L"
            )
    else:
        if inputs.history is None:
            raise ValueError("margin needs a price history or a supplied scenario P&L")
        progress("historical scenarios")
        scenarios = historical_scenarios(inputs.history, inputs.scenario_params)
        names = scenarios.names
        progress("instrument revaluation")
        if params.model is MarginModel.SPAN:
            pnl = span_risk_arrays(inputs, scenarios)
            names = tuple(f"SPAN {i}" for i in range(1, 17))
        else:
            pnl = _revalue(inputs, scenarios)
        if option is AntiProcyclicality.STRESSED_WEIGHT:
            stressed = account_pnl(positions, _revalue(inputs, stressed_scenarios(inputs)))
        elif option is AntiProcyclicality.TEN_YEAR_FLOOR:
            long_history = account_pnl(positions, _revalue(inputs, ten_year_scenarios(inputs)))
    if params.model is MarginModel.SPAN:
        progress("SPAN by combined commodity")
        span = _span(inputs, pnl)
        margin = np.array(span.total, dtype=np.float64)
        if option is AntiProcyclicality.BUFFER:
            margin *= 1.0 + params.apc_buffer
    else:
        progress("aggregation to accounts")
        by_account = account_pnl(positions, pnl)
        progress("initial margin")
        margin = initial_margin(by_account, params, stressed, long_history).astype(np.float64)
        if params.model is MarginModel.ES:
            es_worst = params.es_worst or k_for_confidence(len(names), params.confidence)
    portfolio = inputs.portfolio
    member = _by_index(margin, portfolio.account_member, portfolio.n_members)
    group = _by_index(member, portfolio.member_group, portfolio.n_groups)
    return MarginRun(
        model=params.model,
        scenario_names=names,
        account_margin=_read_only(margin),
        member_margin=_read_only(member),
        group_margin=_read_only(group),
        es_worst=es_worst,
        span=span,
    )


def stress_scenario_set(inputs: EndOfDayInputs) -> ScenarioSet:
    """The hypothetical stress scenarios of the case, on the history's factors."""
    if inputs.history is None:
        raise ValueError("stress scenarios need a price history to revalue on")
    if not inputs.stress:
        raise ValueError("the case has no stress scenarios ([[risk.stress]])")
    return stress_set(inputs.stress, inputs.history.factor_ids)


def compute_stress(
    inputs: EndOfDayInputs, margin: MarginRun, progress: Progress = _quiet
) -> StressRun:
    """Stress loss over margin per account, member and group, with Cover-1/2 and Art 42(3)."""
    scenarios = stress_scenario_set(inputs)
    progress("stress revaluation")
    pnl = account_pnl(inputs.portfolio.positions, _revalue(inputs, scenarios)).astype(np.float64)
    progress("stress exposures")
    shortfall = account_shortfall(pnl, margin.account_margin).astype(np.float64)
    portfolio = inputs.portfolio
    members = group_exposures(shortfall, portfolio.account_member, portfolio.n_members)
    groups = group_exposures(members, portfolio.member_group, portfolio.n_groups)
    return StressRun(
        scenario_names=scenarios.names,
        account_pnl=_read_only(pnl),
        member_exposures=_read_only(np.asarray(members, dtype=np.float64)),
        exposures=_read_only(np.asarray(groups, dtype=np.float64)),
        cover1=cover(groups, 1),
        cover2=cover(groups, 2),
        art42_floor=emir_art42_floor(groups),
    )


def junior_capital(rulebook: Rulebook) -> float:
    """CCP capital ahead of the members' fund in the waterfall (junior SITG)."""
    total = 0.0
    for tranche in rulebook.waterfall:
        if tranche.kind is TrancheKind.MEMBER_DEFAULT_FUND:
            break
        if tranche.kind is TrancheKind.CCP_CAPITAL and tranche.amount is not None:
            total += float(tranche.amount.amount)
    return total


def size_fund(
    inputs: EndOfDayInputs, margin: MarginRun, stress: StressRun, progress: Progress = _quiet
) -> FundRun:
    """Size the fund to Cover-N and split it among members.

    A member's stress key is its worst stress loss over margin across the
    scenarios. The junior CCP capital of the rulebook counts ahead of the fund
    unless the parameters already name one. With the ``beyond_own_fund`` basis
    the need depends on the contributions it sizes, so sizing repeats until the
    fund no longer changes: the need moves by at most the defaulters' share of
    a change in the fund, so the rounds converge geometrically. A fund that has
    not settled after ``MAX_SIZING_ROUNDS`` is reported as not converged, never
    passed off as a fixed point. When the members' minimum contributions add
    up to more than the sized fund, they set it.
    """
    progress("fund sizing")
    params = inputs.fund_params
    if params.sitg_junior == 0.0:
        params = _with_sitg(params, junior_capital(inputs.rulebook))
    portfolio = inputs.portfolio
    stress_key = stress.member_exposures.max(axis=1)

    def split(size: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        contributions = allocate_contributions(size, margin.member_margin, stress_key, params)
        return contributions, _by_index(contributions, portfolio.member_group, portfolio.n_groups)

    sizing = size_default_fund(stress.exposures, _with_basis(params, CoverBasis.LOSS_OVER_MARGIN))
    contributions, group_fund = split(sizing.size)
    rounds, converged = 1, True
    if params.basis is CoverBasis.BEYOND_OWN_FUND:
        sizing, rounds, converged = _size_to_fixed_point(
            stress.exposures, params, sizing.size, split
        )
        contributions, group_fund = split(sizing.size)
    total = float(contributions.sum())
    if total > sizing.size * (1.0 + 1e-12):
        # Every member pays its minimum and the fund rises to their sum.
        sizing = replace(sizing, size=total, binding=SizingConstraint.MINIMUM_CONTRIBUTIONS)
    progress("contributions")
    money = _contributions_money(contributions, portfolio.member_ids, inputs.currency)
    return FundRun(
        sizing=sizing,
        contributions=_read_only(contributions),
        contributions_money=money,
        group_fund=_read_only(group_fund),
        cover_beyond_own_fund=cover(beyond_own_fund(stress.exposures, group_fund), params.cover),
        rounds=rounds,
        converged=converged,
    )


def _size_to_fixed_point(
    exposures: NDArray[np.float64],
    params: FundParams,
    start: float,
    split: Callable[[float], tuple[NDArray[np.float64], NDArray[np.float64]]],
) -> tuple[FundSizing, int, bool]:
    """The beyond-own-fund sizing: a fund F whose contributions need no more than F.

    Each round splits F among members and sizes the fund those contributions
    need, ``g(F)``, the next F. Rounds stop when ``g(F) = F`` (to 1e-12
    relative). Which groups default depends on the contributions, so rounds can
    cycle (a group whose contribution covers its loss drops out of the
    selection, which lowers the fund, which brings it back): a repeated size or
    ``MAX_SIZING_ROUNDS`` rounds end the search unconverged, with the smallest
    fund seen that meets its own need (``g(F) <= F``), if any. Returns the
    sizing (``size`` the chosen F), the rounds and whether they converged.
    """
    size = start
    seen: set[float] = set()
    best: FundSizing | None = None  # the smallest fund seen that meets its own need
    for rounds in range(1, MAX_SIZING_ROUNDS + 1):
        need = size_default_fund(exposures, params, split(size)[1])
        if math.isclose(need.size, size, rel_tol=1e-12, abs_tol=1e-6):
            return need, rounds, True
        if need.size <= size and (best is None or size < best.size):
            best = replace(need, size=size)
        seen.add(size)
        if need.size in seen:
            break
        size = need.size
    return (best if best is not None else need), rounds, False


def _contributions_money(
    contributions: NDArray[np.float64], member_ids: tuple[str, ...], ccy: Currency
) -> tuple[Money, ...]:
    """Contributions in money that add up exactly to the fund, rounded once at the border.

    ``contributions``: shape (n_members,), float64, >= 0, aligned with
    ``member_ids``. Rounding each contribution on its own would let their sum
    drift from the rounded fund by up to half a minor unit per member, so the
    rounded fund is split pro rata to the rounded contributions instead
    (largest remainder, exact).
    """
    fund = to_money(float(contributions.sum()), ccy)
    # Building exact value objects, one per member: this is the border, not array code.
    rounded = {m: to_money(float(c), ccy) for m, c in zip(member_ids, contributions, strict=True)}
    if all(amount.is_zero() for amount in rounded.values()):
        return tuple(rounded.values())
    shares = split_pro_rata(fund, rounded)
    return tuple(shares[m] for m in member_ids)


def _with_sitg(params: FundParams, sitg: float) -> FundParams:
    return replace(params, sitg_junior=sitg)


def _with_basis(params: FundParams, basis: CoverBasis) -> FundParams:
    return replace(params, basis=basis)


def default_case(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    scenario: int,
    groups: tuple[int, ...],
) -> Case:
    """The ``ccp-case/1`` case of the groups' default in one stress scenario.

    Every member appears with its contribution, its initial margin and, for
    survivors, the VM gains owed to it in the scenario (what a VM gains haircut
    could cut). Each defaulting member's close-out loss is the loss of its
    accounts that lose in the scenario; the margin listed for it is the margin
    of those accounts usable against their own loss, account by account, so
    the loss beyond margin is exactly the stress exposure behind Cover-N.
    Margin on accounts that gained goes back to the estate outside the
    waterfall. Amounts cross into money here, at the border.
    """
    portfolio = inputs.portfolio
    ccy = inputs.currency
    pnl = stress.account_pnl[:, scenario]
    loss = np.maximum(-pnl, 0.0)
    usable_margin = np.minimum(margin.account_margin, loss)
    gains = np.maximum(pnl, 0.0)
    member_loss = _by_index(loss, portfolio.account_member, portfolio.n_members)
    member_usable = _by_index(usable_margin, portfolio.account_member, portfolio.n_members)
    member_gains = _by_index(gains, portfolio.account_member, portfolio.n_members)
    defaulting = np.isin(portfolio.member_group, np.asarray(groups, dtype=np.intp))
    members = []
    defaults = []
    # Building exact value objects, one per member: this is the border, not array code.
    for index, member_id in enumerate(portfolio.member_ids):
        is_defaulter = bool(defaulting[index])
        members.append(
            Member(
                id=member_id,
                name=portfolio.member_names[index],
                group=portfolio.group_ids[int(portfolio.member_group[index])],
                default_fund=fund.contributions_money[index],
                initial_margin=to_money(
                    float(member_usable[index] if is_defaulter else margin.member_margin[index]),
                    ccy,
                ),
                vm_gains=Money.zero(ccy) if is_defaulter else to_money(member_gains[index], ccy),
            )
        )
        if is_defaulter:
            defaults.append(Default(member_id, to_money(float(member_loss[index]), ccy)))
    name = stress.scenario_names[scenario]
    pair = " and ".join(portfolio.group_ids[g] for g in groups)
    return Case(
        name=f"{inputs.name}: default of {pair} in '{name}'",
        currency=ccy,
        ccp_name=inputs.ccp_name,
        rulebook=inputs.rulebook,
        members=tuple(members),
        defaults=tuple(defaults),
        description=(
            f"Cover-{len(groups)} default drill generated from the stress scenario "
            f"'{name}': the groups with the largest stress loss over margin default."
        ),
    )


def drill_defaults(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    stress: StressRun,
    fund: FundRun,
    progress: Progress = _quiet,
) -> tuple[Drill, ...]:
    """Every stress scenario's Cover-N default through the waterfall, exactly.

    In each scenario the Cover-N groups on the sizing basis default (ties to the
    lower group index). Scenarios where no group loses beyond its margin still
    run, with the groups that lose most.
    """
    n = fund.sizing.params.cover
    basis = fund.sizing.exposures
    order = rank_groups(basis, n)
    drills = []
    # One exact waterfall run per scenario: Decimal allocation, not array code.
    for scenario, name in enumerate(stress.scenario_names):
        progress(f"drill {name}")
        groups = tuple(int(g) for g in order[:, scenario])
        case = default_case(inputs, margin, stress, fund, scenario, groups)
        drills.append(
            Drill(
                scenario=scenario,
                scenario_name=name,
                groups=tuple(inputs.portfolio.group_ids[g] for g in groups),
                defaulters=tuple(d.member for d in case.defaults),
                case=case,
                result=run_case(case),
            )
        )
    return tuple(drills)


def reverse_stress_grid(
    inputs: EndOfDayInputs,
    margin: MarginRun,
    fund: FundRun,
    progress: Progress = _quiet,
) -> ReverseStress:
    """The multiplier of each stress scenario at which the prefunded waterfall runs out.

    Each scenario is scaled by every multiplier of the case's grid and fully
    revalued (options too); between the last grid point with headroom and the
    first without, the crossing is found by bisection, fully revaluing every
    scenario at each step, to ``REVERSE_STRESS_TOLERANCE`` and never above it.
    """
    progress("reverse stress")
    base = stress_scenario_set(inputs)
    multipliers = tuple(sorted(inputs.stress_multipliers))
    portfolio = inputs.portfolio

    def exposures(scenarios: ScenarioSet) -> NDArray[np.float64]:
        pnl = account_pnl(portfolio.positions, _revalue(inputs, scenarios))
        shortfall = account_shortfall(pnl, margin.account_margin)
        members = group_exposures(shortfall, portfolio.account_member, portfolio.n_members)
        groups = group_exposures(members, portfolio.member_group, portfolio.n_groups)
        return np.asarray(groups, dtype=np.float64)

    # Columns are scenario-major (every multiplier of scenario 0, then 1, ...).
    cube = exposures(scale_scenarios(base, multipliers)).reshape(
        portfolio.n_groups, -1, len(multipliers)
    )
    exposure_grid = np.transpose(cube, (2, 0, 1))
    # Summed as reverse_stress sums group_fund, so it never falls below that sum by an ulp.
    prefunded = float(fund.group_fund.sum()) + junior_capital(inputs.rulebook)
    return reverse_stress(
        exposure_grid,
        np.asarray(multipliers),
        fund.group_fund,
        prefunded=prefunded,
        n_defaulters=fund.sizing.params.cover,
        basis=fund.sizing.params.basis,
        revalue=lambda each: exposures(scale_each(base, each)),
    )


def end_of_day(inputs: EndOfDayInputs, progress: Progress = _quiet) -> EndOfDay:
    """Margin, stress, fund sizing, every Cover-N drill and the reverse-stress grid."""
    margin = compute_margin(inputs, progress)
    stress = compute_stress(inputs, margin, progress)
    fund = size_fund(inputs, margin, stress, progress)
    drills = drill_defaults(inputs, margin, stress, fund, progress)
    reverse = (
        reverse_stress_grid(inputs, margin, fund, progress) if inputs.stress_multipliers else None
    )
    return EndOfDay(inputs, margin, stress, fund, drills, reverse)
