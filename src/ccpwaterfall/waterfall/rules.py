"""The rule of each tranche kind: one plain function per kind, kept in ``RULES``.

Every rule has the signature of ``TrancheRule``: it reads the state (the
balances so far), takes what the tranche can give up to the loss that remains
and returns the postings, without changing anything. A new tranche kind is a
new function and one line in ``RULES``.

A pooled tranche (CCP capital, the survivors' fund, assessments, VM gains
haircut, and the shared part of the defaulters' fund) that covers several
defaulters in one event is applied to them pro rata to their remaining loss,
so every defaulter's loss account is tracked on its own.

Decisions where the case format is silent:

- VM gains haircut: a member's VM gains are one figure for the whole default
  period, so the haircut capacity (``max_fraction`` of the gains, rounded down)
  is consumed across events and never restored, neither by replenishment nor
  by a new cooling-off period. Several ``vm_gains_haircut`` tranches share it:
  each may take a member's gains up to its own cap, less what was haircut
  before.
- Several ``assessments`` tranches share the count of the period: each may
  assess a member up to its own cap, less what the member was assessed in the
  period (or, without cooling-off, the event) before.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from ccpwaterfall.domain import (
    Money,
    Tranche,
    TrancheKind,
    allocate_pro_rata_capped,
    split_pro_rata_capped,
)
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.ledger import Posting
from ccpwaterfall.waterfall.accounts import (
    MemberPart,
    capital_account,
    loss_account,
    member_account,
)
from ccpwaterfall.waterfall.result import InputValue
from ccpwaterfall.waterfall.state import EventContext, TrancheOutcome, TrancheRule, WaterfallState

MARGIN_RULE = (
    "Each defaulter's initial margin covers its own loss only; what is left is returned to "
    "its estate"
)
DEFAULTER_FUND_RULE = (
    "Each defaulter's contribution covers its own loss first; what is left of the defaulters' "
    "contributions covers the other defaulters' loss, pro rata"
)
CAPITAL_RULE = "CCP capital up to its amount, less what earlier events used since replenishment"
MEMBER_FUND_RULE = (
    "Survivors' contributions, pro rata to contribution before the first event, capped at "
    "what is left of each"
)
ASSESSMENT_RULE = (
    "Cash calls on survivors, pro rata to contribution, each at most cap_multiple times its "
    "contribution (rounded down) {period}"
)
HAIRCUT_RULE = (
    "Haircut of survivors' VM gains, pro rata to gains, each at most max_fraction of its gains "
    "(rounded down) over the whole default period"
)


def defaulter_margin(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """Each defaulter's initial margin covers its own remaining loss, and nothing else."""
    ccy = state.currency
    remaining = _remaining(state, context)
    margin = {d: state.balance(member_account(d, MemberPart.INITIAL_MARGIN)) for d in remaining}
    taken = {d: margin[d].min(remaining[d]) for d in remaining}
    postings = _postings(
        {member_account(d, MemberPart.INITIAL_MARGIN): a for d, a in taken.items()}, taken
    )
    return TrancheOutcome(
        available=sum_money(margin.values(), ccy),
        used=sum_money(taken.values(), ccy),
        postings=postings,
        rule=MARGIN_RULE,
        inputs=(
            ("defaulters", tuple(remaining)),
            ("loss_before", sum_money(remaining.values(), ccy)),
        ),
    )


def defaulter_default_fund(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """Each defaulter's contribution covers its own loss, then the others' in the same event.

    What is left of the contributions after their own losses is pooled: the
    pool gives X = min(sum left, sum remaining loss), taken from the
    contributors pro rata to what each has left and applied to the other
    defaulters pro rata to their remaining loss.
    """
    ccy = state.currency
    remaining = _remaining(state, context)
    fund = {d: state.balance(member_account(d, MemberPart.DEFAULT_FUND)) for d in remaining}
    own = {d: fund[d].min(remaining[d]) for d in remaining}
    left = {d: fund[d] - own[d] for d in remaining}
    still_owed = {d: remaining[d] - own[d] for d in remaining}
    pooled = sum_money(left.values(), ccy).min(sum_money(still_owed.values(), ccy))
    given = _split(pooled, left, left)
    received = _split(pooled, still_owed, still_owed)
    zero = Money.zero(ccy)
    drawn = {d: own[d] + given.get(d, zero) for d in remaining}
    covered = {d: own[d] + received.get(d, zero) for d in remaining}
    return TrancheOutcome(
        available=sum_money(fund.values(), ccy),
        used=sum_money(own.values(), ccy) + pooled,
        postings=_postings(
            {member_account(d, MemberPart.DEFAULT_FUND): a for d, a in drawn.items()}, covered
        ),
        rule=DEFAULTER_FUND_RULE,
        inputs=(
            ("defaulters", tuple(remaining)),
            ("loss_before", sum_money(remaining.values(), ccy)),
            ("own_cover", sum_money(own.values(), ccy)),
            ("shared_cover", pooled),
        ),
    )


def ccp_capital(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """The CCP's capital tranche, up to what is left of its amount."""
    ccy = state.currency
    remaining = _remaining(state, context)
    account = capital_account(index)
    available = state.balance(account)
    loss_before = sum_money(remaining.values(), ccy)
    used = available.min(loss_before)
    amount = context.case.capital[index]
    event = context.event
    inputs: list[tuple[str, InputValue]] = [
        ("amount", amount),
        ("used_before", amount - available),
        ("loss_before", loss_before),
        ("replenished_before", event.replenished_before),
    ]
    if event.replenish_after is not None:
        inputs.append(("replenish_after", event.replenish_after))
    elif event.cooling_off_end is not None:
        inputs.append(("cooling_off_end", event.cooling_off_end))
    return TrancheOutcome(
        available=available,
        used=used,
        postings=_postings({account: used}, _cover(used, remaining)),
        rule=CAPITAL_RULE,
        inputs=tuple(inputs),
    )


def member_default_fund(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """The survivors' contributions, pro rata to contribution, capped at what is left of each."""
    members = context.case.members
    survivors = context.event.survivors
    accounts = {s: member_account(s, MemberPart.DEFAULT_FUND) for s in survivors}
    weights = {s: members[s].default_fund.minor_units for s in survivors}
    caps = {s: state.units.get(accounts[s], 0) for s in survivors}
    return _draw_pro_rata(
        state,
        context,
        accounts=accounts,
        weights=weights,
        caps=caps,
        rule=MEMBER_FUND_RULE,
        inputs=(
            ("survivors", len(survivors)),
            ("fund_before_first_event", _money(sum(weights.values()), state)),
        ),
    )


def assessments(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """Cash calls on survivors, pro rata to contribution, within each one's cap left."""
    members = context.case.members
    caps = context.case.caps[index]
    survivors = context.event.survivors
    cap = {s: caps[s].minor_units for s in survivors}
    assessed = {s: state.assessed_units(s) for s in survivors}
    per_period = context.case.case.rulebook.cooling_off is not None
    multiple = tranche.cap_multiple
    assert multiple is not None  # Tranche requires it of an assessments tranche
    inputs: list[tuple[str, InputValue]] = [
        ("survivors", len(survivors)),
        ("cap_multiple", multiple),
        ("caps", _money(sum(cap.values()), state)),
        ("assessed_in_period_before", _money(sum(assessed.values()), state)),
        ("cap_period", "cooling-off period" if per_period else "event"),
    ]
    if context.event.cooling_off_end is not None:
        inputs.append(("cooling_off_end", context.event.cooling_off_end))
    return _draw_pro_rata(
        state,
        context,
        accounts={s: member_account(s, MemberPart.ASSESSMENT) for s in survivors},
        weights={s: members[s].default_fund.minor_units for s in survivors},
        caps={s: max(cap[s] - assessed[s], 0) for s in survivors},
        rule=ASSESSMENT_RULE.format(
            period="over the cooling-off period" if per_period else "in each event"
        ),
        inputs=tuple(inputs),
    )


def vm_gains_haircut(
    state: WaterfallState, tranche: Tranche, index: int, context: EventContext
) -> TrancheOutcome:
    """Haircut of survivors' VM gains, pro rata to gains, within each one's cap left."""
    members = context.case.members
    caps = context.case.caps[index]
    survivors = [s for s in context.event.survivors if not members[s].vm_gains.is_zero()]
    accounts = {s: member_account(s, MemberPart.VM_GAINS) for s in survivors}
    weights = {s: members[s].vm_gains.minor_units for s in survivors}
    cut_before = {s: weights[s] - state.units.get(accounts[s], 0) for s in survivors}
    return _draw_pro_rata(
        state,
        context,
        accounts=accounts,
        weights=weights,
        caps={s: max(caps[s].minor_units - cut_before[s], 0) for s in survivors},
        rule=HAIRCUT_RULE,
        inputs=(
            ("survivors_with_gains", len(survivors)),
            ("max_fraction", tranche.haircut_fraction),
            ("vm_gains", _money(sum(weights.values()), state)),
            ("haircut_before", _money(sum(cut_before.values()), state)),
        ),
    )


RULES: Mapping[TrancheKind, TrancheRule] = MappingProxyType(
    {
        TrancheKind.DEFAULTER_MARGIN: defaulter_margin,
        TrancheKind.DEFAULTER_DEFAULT_FUND: defaulter_default_fund,
        TrancheKind.CCP_CAPITAL: ccp_capital,
        TrancheKind.MEMBER_DEFAULT_FUND: member_default_fund,
        TrancheKind.ASSESSMENTS: assessments,
        TrancheKind.VM_GAINS_HAIRCUT: vm_gains_haircut,
    }
)
"""The rule of every tranche kind."""


def _draw_pro_rata(
    state: WaterfallState,
    context: EventContext,
    *,
    accounts: Mapping[str, str],
    weights: Mapping[str, int],
    caps: Mapping[str, int],
    rule: str,
    inputs: tuple[tuple[str, InputValue], ...],
) -> TrancheOutcome:
    """Draw on members' ``accounts`` pro rata to ``weights``, each within its cap.

    ``weights`` and ``caps`` are in minor units, keyed by member: the split of
    a pooled tranche over a thousand members then makes no intermediate amounts.
    """
    ccy = state.currency
    remaining = _remaining(state, context)
    loss_before = sum_money(remaining.values(), ccy)
    # Only members of positive weight can give: a zero weight gets no share.
    available = Money.from_minor_units(sum(caps[m] for m, w in weights.items() if w > 0), ccy)
    used = available.min(loss_before)
    drawn = {} if used.is_zero() else allocate_pro_rata_capped(used.minor_units, weights, caps)
    credits = tuple(
        Posting(accounts[m], Money.from_minor_units(-units, ccy))
        for m, units in drawn.items()
        if units
    )
    return TrancheOutcome(
        available=available,
        used=used,
        postings=(*credits, *_postings({}, _cover(used, remaining))),
        rule=rule,
        inputs=(*inputs, ("loss_before", loss_before)),
    )


def _remaining(state: WaterfallState, context: EventContext) -> dict[str, Money]:
    """Each defaulter's remaining loss, in id order."""
    return {d: state.remaining_loss(d) for d in context.event.defaulters}


def _split(
    total: Money, weights: Mapping[str, Money], caps: Mapping[str, Money]
) -> dict[str, Money]:
    """``split_pro_rata_capped``, or nothing to split when ``total`` is zero."""
    return {} if total.is_zero() else split_pro_rata_capped(total, weights, caps)


def _cover(total: Money, remaining: Mapping[str, Money]) -> dict[str, Money]:
    """``total`` applied to the defaulters pro rata to their remaining loss."""
    return _split(total, remaining, remaining)


def _postings(drawn: Mapping[str, Money], covered: Mapping[str, Money]) -> tuple[Posting, ...]:
    """Resource accounts credited by what was drawn, loss accounts debited by what it covers."""
    return (
        *_nonzero(Posting(account, -amount) for account, amount in drawn.items()),
        *_nonzero(Posting(loss_account(d), amount) for d, amount in covered.items()),
    )


def _money(units: int, state: WaterfallState) -> Money:
    """An amount in minor units, as Money of the case currency."""
    return Money.from_minor_units(units, state.currency)


def _nonzero(postings: Iterable[Posting]) -> tuple[Posting, ...]:
    return tuple(p for p in postings if not p.amount.is_zero())
