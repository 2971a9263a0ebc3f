"""The JSON form of a case result (``ccp-result/1``), as the case format specifies it.

Amounts are decimal strings with the minor-unit exponent of the case currency
(``"165200000.00"`` in EUR, ``"57000000000"`` in KRW), so no reader ever meets
a binary float. After the specified keys, each tranche also gives the ``rule``
it applied, and each event the ``losses`` of its defaulters one by one and the
``replenishment`` call that restores the fund after it (null when the rulebook
never replenishes).
"""

from __future__ import annotations

from ccpwaterfall.domain import Money
from ccpwaterfall.io.json_text import dumps_indented
from ccpwaterfall.waterfall import CaseResult, EventResult, ReplenishmentCall, TrancheResult

RESULT_FORMAT = "ccp-result/1"


def result_to_json(result: CaseResult) -> dict[str, object]:
    """``result`` as a JSON-able dict, keys in the order of the specification."""
    return {
        "format": RESULT_FORMAT,
        "case": result.case.name,
        "currency": result.case.currency.code,
        "events": [_event(event) for event in result.events],
        "totals": {
            "members": {charge.member: _amount(charge.total) for charge in result.totals},
            "uncovered": _amount(result.uncovered),
        },
    }


def dumps_result(result: CaseResult) -> str:
    """``result`` as JSON text: indented by 2, keys in the specification's order, final newline."""
    return dumps_indented(result_to_json(result)) + "\n"


def _event(event: EventResult) -> dict[str, object]:
    return {
        "date": None if event.date is None else event.date.isoformat(),
        "defaulters": list(event.defaulters),
        "loss": _amount(event.loss),
        "tranches": [_tranche(tranche) for tranche in event.tranches],
        "members": {
            charge.member: {
                "default_fund": _amount(charge.default_fund),
                "assessment": _amount(charge.assessment),
                "vm_haircut": _amount(charge.vm_haircut),
                "total": _amount(charge.total),
            }
            for charge in sorted(event.members, key=lambda charge: charge.member)
        },
        "defaulter_surplus": {
            member: _amount(surplus) for member, surplus in event.defaulter_surplus
        },
        "uncovered": _amount(event.uncovered),
        "losses": {member: _amount(loss) for member, loss in event.losses},
        "replenishment": _replenishment(event.replenishment),
    }


def _replenishment(call: ReplenishmentCall | None) -> dict[str, object] | None:
    if call is None:
        return None
    return {
        "due": None if call.due is None else call.due.isoformat(),
        "members": {member: _amount(amount) for member, amount in call.members},
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
