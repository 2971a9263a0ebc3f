"""The journal: entries balance in each currency; balances add postings up."""

from __future__ import annotations

import pickle

import pytest

from ccpwaterfall.domain import Currency, Money, currency
from ccpwaterfall.ledger import Entry, InvariantError, Posting, balances, balances_by
from ccpwaterfall.waterfall import MemberCharge, MemberCharges, ReplenishmentCall

EUR = currency("EUR")


def test_an_unbalanced_entry_raises(eur: Currency) -> None:
    with pytest.raises(InvariantError, match="does not balance"):
        Entry(
            1,
            "half a movement",
            (
                Posting("member:A:default_fund", Money.of(-10, eur)),
                Posting("loss:D", Money.of("9.99", eur)),
            ),
        )


def test_balance_is_per_currency(eur: Currency, jpy: Currency) -> None:
    # 10 EUR against 10 JPY sums to zero as numbers, not as money.
    with pytest.raises(InvariantError):
        Entry(1, "mixed", (Posting("a", Money.of(10, eur)), Posting("b", Money.of(-10, jpy))))
    both = Entry(
        2,
        "two balanced legs",
        (
            Posting("a", Money.of(10, eur)),
            Posting("b", Money.of(-10, eur)),
            Posting("a", Money.of(5, jpy)),
            Posting("b", Money.of(-5, jpy)),
        ),
    )
    assert len(both.postings) == 4


def test_balances_add_up_postings_in_first_posted_order(eur: Currency) -> None:
    def pay(seq: int, debit: str, credit: str, amount: str, event: int | None) -> Entry:
        money = Money.of(amount, eur)
        return Entry(seq, "pay", (Posting(debit, money), Posting(credit, -money)), event=event)

    journal = (
        pay(0, "member:A:default_fund", "external:member:A", "100", None),
        pay(1, "ccp:close_out", "loss:D", "60", 0),
        pay(2, "loss:D", "member:A:default_fund", "40.50", 0),
        pay(3, "loss:D", "member:A:default_fund", "19.50", 1),
    )
    result = balances(journal)
    assert list(result) == [
        "member:A:default_fund",
        "external:member:A",
        "ccp:close_out",
        "loss:D",
    ]
    assert result["member:A:default_fund"] == Money.of(40, eur)
    assert result["loss:D"] == Money.of(0, eur)
    assert sum(m.minor_units for m in result.values()) == 0
    event_zero = balances_by(journal, lambda e: e.event == 0)
    assert event_zero["loss:D"] == Money.of("-19.50", eur)
    assert "external:member:A" not in event_zero


def test_a_posting_made_from_units_equals_one_made_from_money() -> None:
    amount = Money.of("12.34", EUR)
    made = Posting("member:A:default_fund", amount)
    from_units = Posting.of_units("member:A:default_fund", 1234, EUR)
    assert made == from_units
    assert hash(made) == hash(from_units)
    assert from_units.amount == amount
    assert from_units.units == 1234
    assert Posting.of_units("member:A:default_fund", 1235, EUR) != made
    assert pickle.loads(pickle.dumps(made)) == made
    with pytest.raises(AttributeError):
        made.account = "other"  # type: ignore[misc]


def test_member_charges_and_replenishment_calls_keep_their_amounts_exactly() -> None:
    fund, assessed, cut = Money.of("1.01", EUR), Money.of("0.10", EUR), Money.of("0.00", EUR)
    charge = MemberCharge("A", fund, assessed, cut)
    assert (charge.default_fund, charge.assessment, charge.vm_haircut) == (fund, assessed, cut)
    assert charge.total == Money.of("1.11", EUR)
    assert charge == MemberCharge.of_units("A", 101, 10, 0, EUR)
    assert pickle.loads(pickle.dumps(charge)) == charge
    call = ReplenishmentCall(None, (("A", fund), ("B", assessed)), ())
    assert call.members == (("A", fund), ("B", assessed))
    assert call == ReplenishmentCall.of_units(None, ("A", "B"), (101, 10), (), EUR)
    assert call.members_total(EUR) == Money.of("1.11", EUR)
    with pytest.raises(AttributeError):
        call.due = None


def test_an_events_charges_read_as_columns_or_as_charges_alike() -> None:
    charges = (MemberCharge.of_units("A", 101, 0, 5, EUR), MemberCharge.of_units("B", 7, 3, 0, EUR))
    columns = MemberCharges.of_columns(("A", "B"), (101, 7), (0, 3), (5, 0), EUR)
    assert columns == charges
    assert columns == MemberCharges(charges)
    assert tuple(columns) == charges
    assert (len(columns), columns[1], columns[-1]) == (2, charges[1], charges[1])
    assert columns[:1] == charges[:1]
    assert list(columns.rows()) == [("A", 101, 0, 5), ("B", 7, 3, 0)]
    assert pickle.loads(pickle.dumps(columns)) == columns
    assert MemberCharges() == ()
    assert columns != MemberCharges.of_columns(("A", "B"), (101, 7), (0, 3), (5, 1), EUR)
    with pytest.raises(ValueError, match="unequal length"):
        MemberCharges.of_columns(("A",), (1, 2), (0,), (0,), EUR)
