"""Entries, postings and balances.

Accounts are colon-separated names read from left to right, for example
``member:B01:default_fund``, ``ccp:capital:junior`` or ``loss:AAS``. A
resource account holds a positive balance while the resource is available; a
loss account holds the negative amount of loss not yet covered.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from ccpwaterfall.domain.money import Currency, Money


class InvariantError(AssertionError):
    """A broken accounting invariant: a defect, never a user error."""


@dataclass(frozen=True, slots=True)
class Posting:
    """One leg of an entry: an amount added to an account's balance."""

    account: str
    amount: Money


@dataclass(frozen=True, slots=True)
class Entry:
    """A movement of money: postings that sum to zero in each currency.

    ``rule`` names the rule that made the entry; ``meta`` holds its inputs as
    ordered (key, value) text pairs, so the entry explains itself.
    """

    seq: int
    narration: str
    postings: tuple[Posting, ...]
    event: int | None = None
    rule: str = ""
    meta: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        if not self.postings:
            return
        first = self.postings[0].amount.currency
        # The usual entry is in one currency: one sum, no per-currency table.
        if all(p.amount.currency is first for p in self.postings):
            if sum(p.amount.minor_units for p in self.postings):
                total = sum(p.amount.minor_units for p in self.postings)
                raise InvariantError(
                    f"entry {self.seq} ({self.narration}) does not balance: { {first.code: total} }"
                )
            return
        totals: dict[Currency, int] = {}
        for posting in self.postings:
            ccy = posting.amount.currency
            totals[ccy] = totals.get(ccy, 0) + posting.amount.minor_units
        unbalanced = {c.code: t for c, t in totals.items() if t}
        if unbalanced:
            raise InvariantError(
                f"entry {self.seq} ({self.narration}) does not balance: {unbalanced}"
            )


Journal = tuple[Entry, ...]


def balances(entries: Iterable[Entry]) -> dict[str, Money]:
    """The balance of every account posted to, in first-posted order."""
    return balances_by(entries, lambda _entry: True)


def balances_by(entries: Iterable[Entry], keep: Callable[[Entry], bool]) -> dict[str, Money]:
    """Balances over the entries for which ``keep`` is true."""
    result: dict[str, Money] = {}
    for entry in entries:
        if not keep(entry):
            continue
        for posting in entry.postings:
            before = result.get(posting.account)
            result[posting.account] = posting.amount if before is None else before + posting.amount
    return result
