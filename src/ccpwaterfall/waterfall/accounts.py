"""Names of the journal accounts a waterfall run posts to.

Resource accounts hold a positive balance while the resource is available:

- ``member:<id>:initial_margin``, ``member:<id>:default_fund``,
  ``member:<id>:vm_gains``: what a member has put up or is owed;
- ``ccp:capital:<k>``: the ``ccp_capital`` tranche at index ``k`` of the waterfall.

``member:<id>:assessment`` goes negative by the cash called from the member.
``loss:<id>`` holds the negative amount of a defaulter's loss not yet covered.
``ccp:close_out`` receives the close-out losses; ``external:member:<id>`` and
``external:ccp`` are the outside world that resources come from and go back to.
"""

from __future__ import annotations

from enum import StrEnum

CLOSE_OUT = "ccp:close_out"
EXTERNAL_CCP = "external:ccp"

_MEMBER = "member:"
_CAPITAL = "ccp:capital:"
_LOSS = "loss:"


class MemberPart(StrEnum):
    """The accounts a member has, by the last segment of their names."""

    INITIAL_MARGIN = "initial_margin"
    DEFAULT_FUND = "default_fund"
    VM_GAINS = "vm_gains"
    ASSESSMENT = "assessment"


_PARTS = frozenset(part.value for part in MemberPart)


def member_account(member_id: str, part: MemberPart) -> str:
    """``member:<id>:<part>``."""
    return f"{_MEMBER}{member_id}:{part.value}"


def capital_account(index: int) -> str:
    """``ccp:capital:<k>`` for the ``ccp_capital`` tranche at index ``k``."""
    return f"{_CAPITAL}{index}"


def loss_account(member_id: str) -> str:
    """``loss:<id>``: a defaulter's loss not yet covered, as a negative balance."""
    return f"{_LOSS}{member_id}"


def external_member_account(member_id: str) -> str:
    """``external:member:<id>``: the member outside the CCP."""
    return f"external:member:{member_id}"


def parse_member_account(account: str) -> tuple[str, MemberPart] | None:
    """``(id, part)`` of a ``member:<id>:<part>`` account, else None.

    The part is the last segment, so an id may itself contain colons.
    """
    if not account.startswith(_MEMBER):
        return None
    member_id, _, part = account.removeprefix(_MEMBER).rpartition(":")
    if not member_id or part not in _PARTS:
        return None
    return member_id, MemberPart(part)


def parse_capital_account(account: str) -> int | None:
    """The tranche index of a ``ccp:capital:<k>`` account, else None."""
    if not account.startswith(_CAPITAL):
        return None
    index = account.removeprefix(_CAPITAL)
    return int(index) if index.isdigit() else None


def parse_loss_account(account: str) -> str | None:
    """The defaulter of a ``loss:<id>`` account, else None."""
    return account.removeprefix(_LOSS) if account.startswith(_LOSS) else None
