"""The JSON form of a case result (``ccp-result/1``), as the case format specifies it.

Amounts are decimal strings with the minor-unit exponent of the case currency
(``"165200000.00"`` in EUR, ``"57000000000"`` in KRW), so no reader ever meets
a binary float. After the specified keys, each tranche also gives the ``rule``
it applied, and each event the ``losses`` of its defaulters one by one and the
``replenishment`` call that restores the fund after it (null when the rulebook
never replenishes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter

from ccpwaterfall.domain import Currency, Money
from ccpwaterfall.domain.money import fixed_text
from ccpwaterfall.io.json_text import JsonPairs, PlainText, dumps_indented
from ccpwaterfall.waterfall import (
    CaseResult,
    EventResult,
    MemberCharge,
    MemberCharges,
    ReplenishmentCall,
    TrancheResult,
)

RESULT_FORMAT = "ccp-result/1"


def result_to_json(result: CaseResult, *, streamed: bool = False) -> dict[str, object]:
    """``result`` as a JSON-able dict, keys in the order of the specification.

    ``streamed``: the per-member objects (one entry per survivor per event, and
    the totals) are ``JsonPairs`` made as they are written, for
    ``json_text.write_indented``; otherwise plain dicts.
    """
    ccy = result.case.currency
    return {
        "format": RESULT_FORMAT,
        "case": result.case.name,
        "currency": ccy.code,
        "events": [_event(event, ccy, streamed) for event in result.events],
        "totals": {
            "members": _members(lambda: _totals(result.totals, ccy), streamed),
            "uncovered": _amount(result.uncovered),
        },
    }


def dumps_result(result: CaseResult) -> str:
    """``result`` as JSON text: indented by 2, keys in the specification's order, final newline."""
    return dumps_indented(result_to_json(result, streamed=True)) + "\n"


def _members(
    pairs: Callable[[], Iterable[tuple[str, object]]], streamed: bool
) -> dict[str, object] | JsonPairs:
    return JsonPairs(pairs) if streamed else dict(pairs())


def _charges(charges: Sequence[MemberCharge], ccy: Currency) -> Iterator[tuple[str, object]]:
    """Each charge as its JSON object, by member id; amounts formatted from minor units."""
    places = ccy.minor_unit
    rows = (
        charges.rows()
        if isinstance(charges, MemberCharges)
        else ((charge.member, *charge.units) for charge in charges)
    )
    for member, fund, assessed, cut in sorted(rows, key=itemgetter(0)):
        yield (
            member,
            PlainText(
                default_fund=fixed_text(fund, places),
                assessment=fixed_text(assessed, places),
                vm_haircut=fixed_text(cut, places),
                total=fixed_text(fund + assessed + cut, places),
            ),
        )


def _totals(charges: Sequence[MemberCharge], ccy: Currency) -> Iterator[tuple[str, object]]:
    places = ccy.minor_unit
    for charge in charges:
        yield charge.member, fixed_text(sum(charge.units), places)


def _event(event: EventResult, ccy: Currency, streamed: bool) -> dict[str, object]:
    return {
        "date": None if event.date is None else event.date.isoformat(),
        "defaulters": list(event.defaulters),
        "loss": _amount(event.loss),
        "tranches": [_tranche(tranche) for tranche in event.tranches],
        "members": _members(lambda: _charges(event.members, ccy), streamed),
        "defaulter_surplus": {
            member: _amount(surplus) for member, surplus in event.defaulter_surplus
        },
        "uncovered": _amount(event.uncovered),
        "losses": {member: _amount(loss) for member, loss in event.losses},
        "replenishment": _replenishment(event.replenishment, ccy, streamed),
    }


def _replenishment(
    call: ReplenishmentCall | None, ccy: Currency, streamed: bool
) -> dict[str, object] | None:
    if call is None:
        return None
    places = ccy.minor_unit

    def top_ups() -> Iterator[tuple[str, object]]:
        for member, units in call.member_units:
            yield member, fixed_text(units, places)

    return {
        "due": None if call.due is None else call.due.isoformat(),
        "members": _members(top_ups, streamed),
        "ccp_capital": {name: _amount(amount) for name, amount in call.ccp_capital},
    }


def _tranche(tranche: TrancheResult) -> dict[str, object]:
    return {
        "kind": tranche.kind,
        "name": tranche.name,
        "available": _amount(tranche.available),
        "used": _amount(tranche.used),
        "remaining": _amount(tranche.remaining),
        "rule": tranche.rule,
    }


def _amount(money: Money) -> str:
    return money.fixed()
