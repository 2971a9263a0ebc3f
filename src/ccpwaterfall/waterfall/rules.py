"""The rule of each tranche kind: one plain function per kind, named by its spec in ``kinds``.

Every rule has the signature of ``TrancheRule``: it reads the state (the
balances so far) and the resolved tranche, takes what the tranche can give up
to the loss that remains and returns the postings, without changing anything.

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

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from ccpwaterfall.domain import (
    Money,
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
)
from ccpwaterfall.waterfall.resolved import ResolvedTranche
from ccpwaterfall.waterfall.result import InputValue
from ccpwaterfall.waterfall.state import EventContext, TrancheOutcome, WaterfallState

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
CAPITAL_PRO_RATA_RULE = (
    "CCP capital drawn pro rata with {partner}: the CCP's share of the two drawn together, "
    "its amount weighing as one more contribution"
)
AUCTION_TIERS = "auction_tiers"
HAIRCUT_RULE = (
    "Haircut of survivors' VM gains, pro rata to gains, each at most max_fraction of its gains "
    "(rounded down) over the whole default period"
)


def defaulter_margin(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Each defaulter's initial margin covers its own remaining loss, and nothing else."""
    ccy = state.currency
    remaining = _remaining(state, context)
    names = context.case.accounts[MemberPart.INITIAL_MARGIN]
    margin = {d: state.balance(names[d]) for d in remaining}
    taken = {d: margin[d].min(remaining[d]) for d in remaining}
    postings = _postings({names[d]: a for d, a in taken.items()}, taken)
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
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Each defaulter's contribution covers its own loss, then the others' in the same event.

    What is left of the contributions after their own losses is pooled: the
    pool gives X = min(sum left, sum remaining loss), taken from the
    contributors pro rata to what each has left and applied to the other
    defaulters pro rata to their remaining loss.
    """
    ccy = state.currency
    remaining = _remaining(state, context)
    names = context.case.accounts[MemberPart.DEFAULT_FUND]
    fund = {d: state.balance(names[d]) for d in remaining}
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
        postings=_postings({names[d]: a for d, a in drawn.items()}, covered),
        rule=DEFAULTER_FUND_RULE,
        inputs=(
            ("defaulters", tuple(remaining)),
            ("loss_before", sum_money(remaining.values(), ccy)),
            ("own_cover", sum_money(own.values(), ccy)),
            ("shared_cover", pooled),
        ),
    )


def ccp_capital(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """The CCP's capital tranche, up to what is left of its amount."""
    ccy = state.currency
    remaining = _remaining(state, context)
    account = capital_account(tranche.index)
    available = state.balance(account)
    loss_before = sum_money(remaining.values(), ccy)
    used = available.min(loss_before)
    return TrancheOutcome(
        available=available,
        used=used,
        postings=_postings({account: used}, _cover(used, remaining)),
        rule=CAPITAL_RULE,
        inputs=_capital_inputs(tranche, available, loss_before, context),
    )


def ccp_capital_pro_rata(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """CCP capital drawn together with the next tranche, pro rata: this tranche's share.

    The two draw the loss as one: the CCP's amount weighs as one more
    contribution beside the survivors' (fund or assessment) weights, each
    within what is left of it. This tranche takes the CCP's share of that
    joint split; the next tranche, run by its own rule, then takes the rest
    from the survivors, which is the survivors' share of the same split.
    """
    ccy = state.currency
    remaining = _remaining(state, context)
    account = capital_account(tranche.index)
    available = state.balance(account)
    loss_before = sum_money(remaining.values(), ccy)
    partner = context.case.tranches[tranche.index + 1]
    _, weights, caps = PRO_RATA_TERMS[partner.kind](state, partner, context)
    assert tranche.amount is not None  # resolved from a required parameter
    members_can = sum(caps[m] for m, w in weights.items() if w > 0)
    joint = min(available.minor_units + members_can, loss_before.minor_units)
    # The CCP's key sorts before every member id, so it takes ties first.
    share = 0
    if joint and tranche.amount.minor_units:
        split = allocate_pro_rata_capped(
            joint,
            {"": tranche.amount.minor_units, **weights},
            {"": available.minor_units, **caps},
        )
        share = split[""]
    used = Money.from_minor_units(share, ccy)
    return TrancheOutcome(
        available=available,
        used=used,
        postings=_postings({account: used}, _cover(used, remaining)),
        rule=CAPITAL_PRO_RATA_RULE.format(partner=partner.label),
        inputs=(
            *_capital_inputs(tranche, available, loss_before, context),
            ("shared_with", partner.label),
            ("shared_with_can_give", _money(members_can, state)),
        ),
    )


def _capital_inputs(
    tranche: ResolvedTranche, available: Money, loss_before: Money, context: EventContext
) -> tuple[tuple[str, InputValue], ...]:
    assert tranche.amount is not None  # resolved from a required parameter
    event = context.event
    inputs: list[tuple[str, InputValue]] = [
        ("amount", tranche.amount),
        ("used_before", tranche.amount - available),
        ("loss_before", loss_before),
        ("replenished_before", event.replenished_before),
    ]
    if event.replenish_after is not None:
        inputs.append(("replenish_after", event.replenish_after))
    elif event.cooling_off_end is not None:
        inputs.append(("cooling_off_end", event.cooling_off_end))
    return tuple(inputs)


ProRataTerms = tuple[Mapping[str, str], Mapping[str, int], Mapping[str, int]]


def _member_fund_terms(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> ProRataTerms:
    """Accounts, weights (contribution) and caps (what is left) of the survivors' fund."""
    names = context.case.accounts[MemberPart.DEFAULT_FUND]
    weights = context.contributions
    units = state.units
    caps = {s: units.get(names[s], 0) for s in weights}
    return names, weights, caps


def _assessment_terms(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> ProRataTerms:
    """Accounts, weights (contribution) and caps (cap less assessed in the period)."""
    names = context.case.accounts[MemberPart.ASSESSMENT]
    weights = context.contributions
    limit = context.case.cap_units[tranche.index]
    units = state.units
    start = state.period_start
    # What is left of each cap: the cap less what was assessed since the period began.
    caps = {
        s: left if (left := limit[s] - start.get(a := names[s], 0) + units.get(a, 0)) > 0 else 0
        for s in weights
    }
    return names, weights, caps


# The survivors' side of the tranches a CCP amount can be shared pro rata with.
PRO_RATA_TERMS: Mapping[
    str, Callable[[WaterfallState, ResolvedTranche, EventContext], ProRataTerms]
] = MappingProxyType(
    {
        TrancheKind.MEMBER_DEFAULT_FUND: _member_fund_terms,
        TrancheKind.ASSESSMENTS: _assessment_terms,
    }
)


def member_default_fund(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """The survivors' contributions, pro rata (or by tier), capped at what is left of each."""
    accounts, weights, caps = _member_fund_terms(state, tranche, context)
    return _draw_pro_rata(
        state,
        context,
        accounts=accounts,
        weights=weights,
        caps=caps,
        tiers=_tiers(tranche, context),
        rule=MEMBER_FUND_RULE,
        inputs=(
            ("survivors", len(weights)),
            ("fund_before_first_event", _money(sum(weights.values()), state)),
        ),
    )


def assessments(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Cash calls on survivors, pro rata (or by tier), within each one's cap left."""
    accounts, weights, caps = _assessment_terms(state, tranche, context)
    limit = context.case.cap_units[tranche.index]
    survivors = context.event.survivors
    units = state.units
    start = state.period_start
    per_period = context.case.case.rulebook.cooling_off is not None
    multiple = tranche.terms.cap_multiple
    assert multiple is not None  # a required parameter of the kind
    inputs: list[tuple[str, InputValue]] = [
        ("survivors", len(survivors)),
        ("cap_multiple", multiple),
        ("caps", _money(sum([limit[s] for s in survivors]), state)),
        (
            "assessed_in_period_before",
            _money(
                sum([start.get(accounts[s], 0) for s in survivors])
                - sum([units.get(accounts[s], 0) for s in survivors]),
                state,
            ),
        ),
        ("cap_period", "cooling-off period" if per_period else "event"),
    ]
    if context.event.cooling_off_end is not None:
        inputs.append(("cooling_off_end", context.event.cooling_off_end))
    return _draw_pro_rata(
        state,
        context,
        accounts=accounts,
        weights=weights,
        caps=caps,
        tiers=_tiers(tranche, context),
        rule=ASSESSMENT_RULE.format(
            period="over the cooling-off period" if per_period else "in each event"
        ),
        inputs=tuple(inputs),
    )


def vm_gains_haircut(
    state: WaterfallState, tranche: ResolvedTranche, context: EventContext
) -> TrancheOutcome:
    """Haircut of survivors' VM gains, pro rata to gains, within each one's cap left."""
    limit = context.case.cap_units[tranche.index]
    accounts = context.case.accounts[MemberPart.VM_GAINS]
    put_up = context.case.put_up
    # Survivors with gains only, weighted by their gains (what they put up).
    gains = {s: g for s in context.event.survivors if (g := put_up[accounts[s]])}
    units = state.units
    cut_before = {s: g - units.get(accounts[s], 0) for s, g in gains.items()}
    return _draw_pro_rata(
        state,
        context,
        accounts=accounts,
        weights=gains,
        caps={s: left if (left := limit[s] - cut) > 0 else 0 for s, cut in cut_before.items()},
        tiers=None,
        rule=HAIRCUT_RULE,
        inputs=(
            ("survivors_with_gains", len(gains)),
            ("max_fraction", tranche.terms.haircut_fraction),
            ("vm_gains", _money(sum(gains.values()), state)),
            ("haircut_before", _money(sum(cut_before.values()), state)),
        ),
    )


def _tiers(tranche: ResolvedTranche, context: EventContext) -> tuple[tuple[str, ...], ...] | None:
    """The event's auction tiers when the tranche allocates by them, else None (pro rata)."""
    if tranche.terms.allocation != AUCTION_TIERS:
        return None
    return context.event.tiers


def _draw_pro_rata(
    state: WaterfallState,
    context: EventContext,
    *,
    accounts: Mapping[str, str],
    weights: Mapping[str, int],
    caps: Mapping[str, int],
    tiers: tuple[tuple[str, ...], ...] | None,
    rule: str,
    inputs: tuple[tuple[str, InputValue], ...],
) -> TrancheOutcome:
    """Draw on members' ``accounts`` pro rata to ``weights``, each within its cap.

    ``weights`` and ``caps`` are in minor units, keyed by member: the split of
    a pooled tranche over a thousand members then makes no intermediate amounts.
    With ``tiers`` (auction tiers, most junior first) the same total is taken
    tier by tier: each tier gives as much as its members can, split pro rata
    within the tier, and only the rest passes to the next.
    """
    ccy = state.currency
    remaining = _remaining(state, context)
    loss_before = sum_money(remaining.values(), ccy)
    # Only members of positive weight can give: a zero weight gets no share.
    if all(weights.values()):
        giving: Mapping[str, int] = weights
        available = Money.from_minor_units(sum(caps.values()), ccy)
    else:
        giving = {m: w for m, w in weights.items() if w > 0}
        available = Money.from_minor_units(sum([caps[m] for m in giving]), ccy)
    used = available.min(loss_before)
    drawn: dict[str, int] = {}
    left = used.minor_units
    if tiers is None and giving is weights and left:
        # One split over every member: no per-tier copies of the weights and caps.
        drawn = allocate_pro_rata_capped(left, weights, caps)
    elif left:
        for tier in (tuple(weights),) if tiers is None else tiers:
            members = [m for m in tier if m in giving]
            if not left or not members:
                continue
            take = min(left, sum([caps[m] for m in members]))
            if take:
                drawn.update(
                    allocate_pro_rata_capped(
                        take, {m: weights[m] for m in members}, {m: caps[m] for m in members}
                    )
                )
            left -= take
    of_units = Posting.of_units
    # Credits by member id: one split keeps the order of ``weights`` (survivors come
    # in id order); draws by tier are sorted back.
    ordered = drawn.items() if tiers is None and giving is weights else sorted(drawn.items())
    credits = tuple([of_units(accounts[m], -units, ccy) for m, units in ordered if units])
    tier_inputs: tuple[tuple[str, InputValue], ...] = (
        () if tiers is None else (("auction_tiers", len(tiers)),)
    )
    return TrancheOutcome(
        available=available,
        used=used,
        postings=(*credits, *_postings({}, _cover(used, remaining))),
        rule=rule if tiers is None else f"{rule}; drawn by auction tier, most junior first",
        inputs=(*inputs, *tier_inputs, ("loss_before", loss_before)),
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
    return tuple(p for p in postings if p.units)
