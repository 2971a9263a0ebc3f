"""The accounting invariants the engine re-checks after every step.

A broken invariant is a defect in a rule, never a user error: it raises
``InvariantError``.

- Conservation: an event's loss = what its tranches used so far + what remains.
- No resource account below zero (no member or tranche overdrawn) or above
  what was put up (no replenishment past full), no loss account above zero
  (no loss over-covered).
- No assessment beyond its cap in the period, no VM haircut beyond its cap, no
  ``ccp_capital`` tranche beyond its amount.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ccpwaterfall.domain import Money
from ccpwaterfall.domain.money import sum_money
from ccpwaterfall.ledger import InvariantError
from ccpwaterfall.waterfall.accounts import (
    MemberPart,
    external_member_account,
    parse_capital_account,
    parse_loss_account,
)
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent
from ccpwaterfall.waterfall.state import TrancheOutcome, WaterfallState


@dataclass(frozen=True, slots=True)
class AccountBounds:
    """Each member account's bounds in minor units, built once per run for the hot check.

    ``holding``: (lowest, highest) balance of every margin, fund and VM gains
    account (a VM gains account may fall only by its haircut cap);
    ``assessed``: the most each assessment account may be assessed in a period;
    ``free``: the members' external accounts, which hold any balance.
    """

    holding: Mapping[str, tuple[int, int]]
    assessed: Mapping[str, int]
    free: frozenset[str] = frozenset()


def account_bounds(resolved: ResolvedCase) -> AccountBounds:
    """The bounds ``check_accounts`` tests first, from the resolved case."""
    accounts = resolved.accounts
    put_up = resolved.put_up
    holding = {
        account: (0, put_up[account])
        for part in (MemberPart.INITIAL_MARGIN, MemberPart.DEFAULT_FUND)
        for account in accounts[part].values()
    }
    cut_limit = resolved.haircut_limit
    holding.update(
        {
            account: (max(put_up[account] - cut_limit[m].minor_units, 0), put_up[account])
            for m, account in accounts[MemberPart.VM_GAINS].items()
        }
    )
    limit = resolved.assessment_limit
    assessed = {
        account: limit[m].minor_units for m, account in accounts[MemberPart.ASSESSMENT].items()
    }
    free = frozenset(external_member_account(m) for m in resolved.members)
    return AccountBounds(holding, assessed, free)


def check_accounts(resolved: ResolvedCase, state: WaterfallState, accounts: Iterable[str]) -> None:
    """Sign and cap invariants of ``accounts`` (those a step posted to) in ``state``.

    The engine tests member accounts against ``AccountBounds`` as it posts and
    sends here only the others and any outside their bounds, which this names.
    """
    for account in accounts:
        _check_account(resolved, state, account, state.units.get(account, 0))


def _check_account(resolved: ResolvedCase, state: WaterfallState, account: str, units: int) -> None:
    owner = resolved.member_accounts.get(account)
    if owner is not None:
        _check_member_account(resolved, state, account, units, owner)
    elif parse_loss_account(account) is not None:
        if units > 0:
            raise InvariantError(f"{account} over-covered: {_text(units, state)}")
    elif (index := parse_capital_account(account)) is not None:
        amount = resolved.capital.get(index)
        if amount is None:
            raise InvariantError(f"{account} is not a CCP capital tranche of this case")
        if not 0 <= units <= amount.minor_units:
            raise InvariantError(f"{account} is {_text(units, state)}, outside 0 to {amount}")
    elif account.startswith("member:"):
        raise InvariantError(f"{account} is not a member account of this case")


def _check_member_account(
    resolved: ResolvedCase,
    state: WaterfallState,
    account: str,
    units: int,
    owner: tuple[str, MemberPart],
) -> None:
    member_id, part = owner
    if part is MemberPart.ASSESSMENT:
        assessed = state.assessed_in(account)
        cap = resolved.assessment_limit[member_id]
        if assessed > cap.minor_units:
            raise InvariantError(
                f"{member_id} assessed {_text(assessed, state)} in the period, cap {cap}"
            )
        return
    if units < 0:
        raise InvariantError(f"{account} overdrawn: {_text(units, state)}")
    put_up = resolved.put_up[account]
    if units > put_up:
        raise InvariantError(
            f"{account} is {_text(units, state)}, above the {_text(put_up, state)} put up"
        )
    if part is MemberPart.VM_GAINS:
        cut = put_up - units
        cap = resolved.haircut_limit[member_id]
        if cut > cap.minor_units:
            raise InvariantError(f"{member_id} VM gains haircut {_text(cut, state)}, cap {cap}")


def check_outcome(event: ResolvedEvent, outcome: TrancheOutcome) -> None:
    """A tranche outcome is consistent: it covers only this event's losses, by ``used``."""
    zero = Money.zero(event.loss.currency)
    if not zero <= outcome.used <= outcome.available:
        raise InvariantError(f"used {outcome.used} outside 0 to available {outcome.available}")
    covered = 0
    for posting in outcome.postings:
        account = posting.account
        if not account.startswith("loss:"):
            continue
        defaulter = parse_loss_account(account)
        if defaulter is None:
            continue
        if defaulter not in event.defaulters or posting.units < 0:
            raise InvariantError(f"{account} is not a loss this event may cover")
        covered += posting.units
    total = Money.from_minor_units(covered, zero.currency)
    if total != outcome.used:
        raise InvariantError(f"the loss postings cover {total}, the tranche used {outcome.used}")


def check_conservation(event: ResolvedEvent, state: WaterfallState, used: Money) -> None:
    """The event's loss equals what its tranches used plus what remains."""
    remaining = sum_money((state.remaining_loss(d) for d in event.defaulters), state.currency)
    if used + remaining != event.loss:
        raise InvariantError(
            f"event {event.index}: loss {event.loss} != used {used} + remaining {remaining}"
        )


def _text(units: int, state: WaterfallState) -> str:
    return str(Money.from_minor_units(units, state.currency))
