"""Properties of the waterfall over random cases: conservation, exact parts, caps, order."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace
from decimal import Decimal
from fractions import Fraction
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from ccpwaterfall.domain import (
    Case,
    CoolingOff,
    Currency,
    Default,
    Member,
    Money,
    Rulebook,
    Tranche,
    TrancheKind,
    add_business_days,
    currency,
)
from ccpwaterfall.ledger import balances
from ccpwaterfall.waterfall import CaseResult, EventResult, MemberCharge, run_case
from ccpwaterfall.waterfall.accounts import MemberPart, parse_member_account
from waterfall_cases import tranche_entry

START = dt.date(2024, 1, 8)
KINDS = tuple(TrancheKind)

amounts = st.one_of(st.just(0), st.integers(min_value=1, max_value=10**6))
multiples = st.sampled_from(["0", "0.5", "1", "2", "2.75"]).map(Decimal)
fractions = st.one_of(st.none(), st.sampled_from(["0", "0.333", "0.5", "1"]).map(Decimal))


@st.composite
def tranches(draw: st.DrawFn, ccy: Currency) -> tuple[Tranche, ...]:
    """One tranche of a random kind; CCP capital shared pro rata comes with its partner."""
    kind = draw(st.sampled_from(KINDS))
    if kind == TrancheKind.CCP_CAPITAL:
        return (Tranche(kind, amount=Money.from_minor_units(draw(amounts), ccy)),)
    if kind == TrancheKind.CCP_CAPITAL_PRO_RATA:
        partner = draw(st.sampled_from((TrancheKind.MEMBER_DEFAULT_FUND, TrancheKind.ASSESSMENTS)))
        shared = Tranche(
            kind, amount=Money.from_minor_units(draw(amounts), ccy), shared_with=partner
        )
        if partner == TrancheKind.ASSESSMENTS:
            return (shared, Tranche(partner, cap_multiple=draw(multiples)))
        return (shared, Tranche(partner))
    if kind == TrancheKind.ASSESSMENTS:
        return (Tranche(kind, cap_multiple=draw(multiples)),)
    if kind == TrancheKind.VM_GAINS_HAIRCUT:
        return (Tranche(kind, max_fraction=draw(fractions)),)
    return (Tranche(kind),)


@st.composite
def cooling_offs(draw: st.DrawFn) -> CoolingOff:
    days = draw(st.integers(min_value=0, max_value=25))
    longest = draw(st.one_of(st.none(), st.integers(min_value=days, max_value=days + 40)))
    return CoolingOff(days, draw(st.integers(min_value=0, max_value=25)), longest)


@st.composite
def cases(draw: st.DrawFn, max_events: int = 3) -> Case:
    """Up to 30 members, a random rulebook from the six kinds, 1 to ``max_events`` events."""
    ccy = currency(draw(st.sampled_from(["EUR", "JPY", "KWD"])))
    ids = draw(
        st.lists(
            st.text(alphabet="ABCab", min_size=1, max_size=3), min_size=2, max_size=30, unique=True
        )
    )

    def money() -> Money:
        return Money.from_minor_units(draw(amounts), ccy)

    members = tuple(Member(i, money(), money(), money()) for i in ids)
    n_events = draw(st.integers(min_value=1, max_value=max_events))
    offsets = sorted(draw(st.sets(st.integers(0, 60), min_size=n_events, max_size=n_events)))
    dated = n_events > 1 or draw(st.booleans())
    dates = [add_business_days(START, o) if dated else None for o in offsets]
    defaulters = draw(
        st.lists(st.sampled_from(ids), min_size=1, max_size=min(6, len(ids) - 1), unique=True)
    )
    defaults = tuple(
        Default(d, money(), draw(st.sampled_from(dates)))
        for d in defaulters  # every date may not be drawn: fewer events then
    )
    rulebook = Rulebook(
        tuple(t for pair in draw(st.lists(tranches(ccy), max_size=7)) for t in pair),
        draw(st.one_of(st.none(), st.integers(min_value=0, max_value=5))),
        draw(st.one_of(st.none(), cooling_offs())),
    )
    return Case("random", ccy, "CCP", rulebook, members, defaults)


def units(amounts_: Iterable[Money]) -> int:
    return sum(m.minor_units for m in amounts_)


@given(cases())
def test_loss_is_conserved(case: Case) -> None:
    result = run_case(case)
    for event in result.events:
        assert event.uncovered.minor_units >= 0
        assert units(t.used for t in event.tranches) + event.uncovered.minor_units == (
            event.loss.minor_units
        )
        assert event.loss.minor_units == units(loss for _, loss in event.losses)
        for t in event.tranches:
            assert 0 <= t.used.minor_units <= t.available.minor_units
            assert t.remaining.minor_units == t.available.minor_units - t.used.minor_units


@given(cases())
def test_parts_add_up_exactly(case: Case) -> None:
    result = run_case(case)
    member_kinds = {
        TrancheKind.MEMBER_DEFAULT_FUND,
        TrancheKind.ASSESSMENTS,
        TrancheKind.VM_GAINS_HAIRCUT,
    }
    for event in result.events:
        borne = units(t.used for t in event.tranches if t.kind in member_kinds)
        assert units(c.total for c in event.members) == borne
        for charge in event.members:
            assert charge.total.minor_units > 0
            parts = (charge.default_fund, charge.assessment, charge.vm_haircut)
            assert charge.total.minor_units == units(parts)
        # Each tranche's resources given equal what it covered.
        for t in event.tranches:
            entry = tranche_entry(result.journal, event.index, t.index)
            given_ = (
                0
                if entry is None
                else -units(p.amount for p in entry.postings if p.amount.amount < 0)
            )
            assert given_ == t.used.minor_units
    per_member: dict[str, int] = {}
    for event in result.events:
        for charge in event.members:
            per_member[charge.member] = per_member.get(charge.member, 0) + charge.total.minor_units
    assert {c.member: c.total.minor_units for c in result.totals} == per_member


@given(cases(max_events=1), st.data())
def test_a_larger_loss_never_uses_less_of_any_tranche(case: Case, data: st.DataObject) -> None:
    # The defaulters' own margin goes first: a margin tranche after a pooled one
    # would see each defaulter's share of the pooled cover, which rounding may
    # move by a minor unit between defaulters.
    waterfall = sorted(
        case.rulebook.waterfall, key=lambda t: t.kind != TrancheKind.DEFAULTER_MARGIN
    )
    case = replace(case, rulebook=replace(case.rulebook, waterfall=tuple(waterfall)))
    index = data.draw(st.integers(min_value=0, max_value=len(case.defaults) - 1))
    extra = Money.from_minor_units(data.draw(st.integers(1, 10**6)), case.currency)
    bigger = list(case.defaults)
    bigger[index] = replace(bigger[index], loss=bigger[index].loss + extra)
    before = run_case(case).events[0]
    after = run_case(replace(case, defaults=tuple(bigger))).events[0]
    for old, new in zip(before.tranches, after.tranches, strict=True):
        assert new.used >= old.used
    assert after.uncovered >= before.uncovered


@given(cases())
def test_the_members_fund_is_shared_within_one_unit_of_the_exact_share(case: Case) -> None:
    result = run_case(case)
    event = result.events[0]
    funds = [t for t in event.tranches if t.kind == TrancheKind.MEMBER_DEFAULT_FUND]
    if not funds:
        return
    # In the first event no survivor has given anything yet, so no cap binds.
    first = funds[0]
    drawn = dict.fromkeys(_survivors(case, event.defaulters), 0)
    entry = tranche_entry(result.journal, 0, first.index)
    for posting in () if entry is None else entry.postings:
        parsed = parse_member_account(posting.account)
        if parsed is not None:
            drawn[parsed[0]] -= posting.amount.minor_units
    weights = {m: case.member(m).default_fund.minor_units for m in drawn}
    total = sum(weights.values())
    for member_id, part in drawn.items():
        exact = (
            Fraction(first.used.minor_units * weights[member_id], total) if total else Fraction(0)
        )
        assert abs(part - exact) < 1


@given(cases(), st.randoms(use_true_random=False))
def test_member_order_does_not_change_any_result(case: Case, rng: Random) -> None:
    members = list(case.members)
    rng.shuffle(members)
    defaults = list(case.defaults)
    rng.shuffle(defaults)
    shuffled = replace(case, members=tuple(members), defaults=tuple(defaults))
    first, second = run_case(case), run_case(shuffled)
    assert first.events == second.events
    assert first.journal == second.journal


@given(cases())
def test_caps_are_never_exceeded(case: Case) -> None:
    result = run_case(case)
    waterfall = case.rulebook.waterfall
    zero = Money.zero(case.currency)
    cap_multiples = [t.cap_multiple for t in waterfall if t.cap_multiple is not None]
    fractions_ = [t.haircut_fraction for t in waterfall if t.kind == TrancheKind.VM_GAINS_HAIRCUT]
    for m in case.members:
        assessment_cap = max((m.default_fund.times_floor(c) for c in cap_multiples), default=zero)
        haircut_cap = max((m.vm_gains.times_floor(f) for f in fractions_), default=zero)
        for period in _periods(result):
            assessed = units(c.assessment for e in period for c in e.members if c.member == m.id)
            assert assessed <= assessment_cap.minor_units
            given_ = units(c.default_fund for e in period for c in e.members if c.member == m.id)
            assert given_ <= m.default_fund.minor_units
        haircut = units(c.vm_haircut for c in _charges(result, m.id))
        assert haircut <= haircut_cap.minor_units
    for i, t in enumerate(waterfall):
        if t.amount is None:
            continue
        for period in _periods(result, by_replenishment=True):
            assert units(e.tranches[i].used for e in period) <= t.amount.minor_units


@given(cases())
def test_the_journal_balances(case: Case) -> None:
    result = run_case(case)
    for entry in result.journal:
        assert sum(p.amount.minor_units for p in entry.postings) == 0
    final = balances(result.journal)
    assert sum(m.minor_units for m in final.values()) == 0
    for account, balance in final.items():
        parsed = parse_member_account(account)
        if account.startswith("loss:"):
            assert balance.minor_units <= 0
        elif account.startswith("ccp:capital:") or (
            parsed is not None and parsed[1] is not MemberPart.ASSESSMENT
        ):
            assert balance.minor_units >= 0
    assert -units(m for a, m in final.items() if a.startswith("loss:")) == (
        result.uncovered.minor_units
    )


def _survivors(case: Case, defaulters: tuple[str, ...]) -> list[str]:
    return [m.id for m in case.members if m.id not in defaulters]


def _charges(result: CaseResult, member_id: str) -> list[MemberCharge]:
    return [c for e in result.events for c in e.members if c.member == member_id]


def _periods(result: CaseResult, *, by_replenishment: bool = False) -> list[list[EventResult]]:
    """Events grouped by period: assessment periods, or the spans between replenishments.

    With cooling-off a new period starts exactly where the fund is replenished;
    without it assessment caps are per event.
    """
    per_event = result.case.rulebook.cooling_off is None and not by_replenishment
    groups: list[list[EventResult]] = []
    for event in result.events:
        if not groups or per_event or event.replenished_before:
            groups.append([])
        groups[-1].append(event)
    return groups
