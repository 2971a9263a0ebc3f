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


class Posting:
    """One leg of an entry: an amount added to an account's balance.

    Held as the account, the whole minor units and the currency: a journal of
    millions of postings then holds one small object per leg, and ``amount``
    builds the ``Money`` when read. Immutable; equal when account and amount are.
    """

    __slots__ = ("_account", "_currency", "_units")

    _account: str
    _units: int
    _currency: Currency

    def __init__(self, account: str, amount: Money) -> None:
        self._account = account
        self._units = amount.minor_units
        self._currency = amount.currency

    @classmethod
    def of_units(cls, account: str, units: int, ccy: Currency) -> Posting:
        """A posting of ``units`` minor units of ``ccy``: the engine's path, no Money made."""
        posting = object.__new__(cls)
        posting._account = account
        posting._units = units
        posting._currency = ccy
        return posting

    @property
    def account(self) -> str:
        return self._account

    @property
    def units(self) -> int:
        """The amount in whole minor units of its currency."""
        return self._units

    @property
    def currency(self) -> Currency:
        return self._currency

    @property
    def amount(self) -> Money:
        return Money.from_minor_units(self._units, self._currency)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Posting):
            return NotImplemented
        return (
            self._account == other._account
            and self._units == other._units
            and self._currency == other._currency
        )

    def __hash__(self) -> int:
        return hash((self._account, self._units, self._currency))

    def __repr__(self) -> str:
        return f"Posting(account={self._account!r}, amount={self.amount!r})"

    def __reduce__(self) -> tuple[object, ...]:
        return (Posting.of_units, (self._account, self._units, self._currency))


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
        postings = self.postings
        if not postings:
            return
        first = postings[0]._currency
        # The usual entry is in one currency: one sum, no per-currency table.
        if all(p._currency is first for p in postings):
            total = sum([p._units for p in postings])
            if total:
                raise InvariantError(
                    f"entry {self.seq} ({self.narration}) does not balance: { {first.code: total} }"
                )
            return
        totals: dict[Currency, int] = {}
        for posting in postings:
            totals[posting._currency] = totals.get(posting._currency, 0) + posting._units
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
    units: dict[tuple[str, Currency], int] = {}
    for entry in entries:
        if not keep(entry):
            continue
        for posting in entry.postings:
            key = (posting._account, posting._currency)
            units[key] = units.get(key, 0) + posting._units
    result: dict[str, Money] = {}
    for (account, ccy), total in units.items():
        amount = Money.from_minor_units(total, ccy)
        before = result.get(account)
        # An account holds one currency; mixing two fails as Money arithmetic does.
        result[account] = amount if before is None else before + amount
    return result
