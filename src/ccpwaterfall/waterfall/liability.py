"""A member's liability: its maximum loss under the rulebook, known before any default.

Members must know their full liability in advance. At the Korea Exchange in
2013 many members were unaware of theirs, and the surprise draw on their
fund cost the clearing house their confidence. This module states the
maximum from the rulebook and the member's resources alone, then sets beside
it what the member would pay in the case's own events.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from ccpwaterfall.domain import Case, CoolingOff, Currency, Default, Member, Money
from ccpwaterfall.waterfall.accounts import MemberPart, member_account
from ccpwaterfall.waterfall.kinds import TRANCHE_KINDS, TrancheRegistry, TrancheRole
from ccpwaterfall.waterfall.resolve import resolve_case
from ccpwaterfall.waterfall.result import CaseResult, MemberCharge

_OWN_ROLES = frozenset({TrancheRole.DEFAULTER_MARGIN, TrancheRole.DEFAULTER_FUND})


class MemberRole(StrEnum):
    """What a member is in one event."""

    SURVIVOR = "survivor"
    DEFAULTER = "defaulter"
    DEFAULTED_BEFORE = "defaulted before"


@dataclass(frozen=True, slots=True)
class AssessmentCap:
    """The member's cap under one assessments tranche: ``cap_multiple`` x contribution,
    rounded down to the minor unit."""

    tranche: str
    cap_multiple: Decimal
    cap: Money


@dataclass(frozen=True, slots=True)
class EventLiability:
    """What the member bore in one event of the case, and in which role.

    ``own_resources_used`` is the member's own initial margin and default
    fund used for the losses of the event in which it defaults (zero otherwise).
    """

    index: int
    date: dt.date | None
    role: MemberRole
    charge: MemberCharge
    own_resources_used: Money


@dataclass(frozen=True, slots=True)
class Liability:
    """A member's maximum loss under the rulebook, and what it pays in the case.

    The maximum is for one event, or for one cooling-off period when the
    rulebook has one (the fund is not replenished and the assessment cap is
    counted once over the period). VM gains are one figure for the whole
    default period, so the VM haircut is at risk once, not per event.
    """

    member: Member
    case: str
    ccp: str
    currency: Currency
    default_fund_at_risk: Money  # its contribution, if the fund is in the waterfall
    assessment_caps: tuple[AssessmentCap, ...]  # one per assessments tranche
    vm_gains_at_risk: Money  # floor(max_fraction x vm_gains), if haircutting is in the waterfall
    cooling_off: CoolingOff | None  # the period the caps are counted over; None: per event
    default: Default | None  # the member's own default in the case, if any
    own_resources_at_risk: Money  # its IM and DF used first for its own default
    events: tuple[EventLiability, ...]  # the case's events, in date order

    @property
    def assessment_cap(self) -> Money:
        """The most the member can be assessed: the largest cap of any assessments tranche.

        Several assessments tranches share one count of what the member has
        been assessed, so their caps do not add up; the largest binds.
        """
        largest = Money.zero(self.currency)
        for cap in self.assessment_caps:
            largest = largest.max(cap.cap)
        return largest

    @property
    def max_total(self) -> Money:
        """The most the member can lose per event (or per cooling-off period) as a survivor."""
        return self.default_fund_at_risk + self.assessment_cap + self.vm_gains_at_risk

    @property
    def paid(self) -> MemberCharge:
        """What the member bore as a survivor, summed over the case's events."""
        zero = Money.zero(self.currency)
        total = MemberCharge(self.member.id, zero, zero, zero)
        for event in self.events:
            total = MemberCharge(
                self.member.id,
                total.default_fund + event.charge.default_fund,
                total.assessment + event.charge.assessment,
                total.vm_haircut + event.charge.vm_haircut,
            )
        return total


def member_liability(
    case: Case, member_id: str, result: CaseResult, kinds: TrancheRegistry = TRANCHE_KINDS
) -> Liability:
    """The liability of ``member_id`` under ``case``'s rulebook and in ``result``'s events.

    What the member can lose is read from the roles of the rulebook's tranche
    kinds and from each tranche's resolved caps. Raises ValueError for a
    member the case does not list.
    """
    member = next((m for m in case.members if m.id == member_id), None)
    if member is None:
        raise ValueError(f"unknown member {member_id!r}")
    ccy = case.currency
    zero = Money.zero(ccy)
    resolved = resolve_case(case, kinds)
    roles = {role for t in resolved.tranches for role in kinds[t.kind].roles}

    caps = tuple(
        AssessmentCap(t.label, t.terms.cap_multiple, t.caps[member_id])
        for t in resolved.tranches
        if TrancheRole.ASSESSMENT in kinds[t.kind].roles
        and t.caps is not None
        and t.terms.cap_multiple is not None
    )
    vm_at_risk = zero
    for tranche in resolved.tranches:
        if TrancheRole.VM_HAIRCUT in kinds[tranche.kind].roles and tranche.caps is not None:
            # Several haircut tranches share one pool of gains: the largest fraction binds.
            vm_at_risk = vm_at_risk.max(tranche.caps[member_id])

    own = zero
    if TrancheRole.DEFAULTER_MARGIN in roles:
        own += member.initial_margin
    if TrancheRole.DEFAULTER_FUND in roles:
        own += member.default_fund

    default = next((d for d in case.defaults if d.member == member_id), None)
    return Liability(
        member=member,
        case=case.name,
        ccp=case.ccp_name,
        currency=ccy,
        default_fund_at_risk=(member.default_fund if TrancheRole.MEMBER_FUND in roles else zero),
        assessment_caps=caps,
        vm_gains_at_risk=vm_at_risk,
        cooling_off=case.rulebook.cooling_off,
        default=default,
        own_resources_at_risk=own,
        events=_event_liabilities(member_id, result, _own_rules(kinds)),
    )


def _own_rules(kinds: TrancheRegistry) -> frozenset[str]:
    """Journal rules (tranche kinds) whose entries draw on a defaulter's own resources."""
    return frozenset(k for k, spec in kinds.items() if _OWN_ROLES & set(spec.roles))


def _event_liabilities(
    member_id: str, result: CaseResult, own_rules: frozenset[str]
) -> tuple[EventLiability, ...]:
    zero = Money.zero(result.case.currency)
    accounts = {
        member_account(member_id, MemberPart.INITIAL_MARGIN),
        member_account(member_id, MemberPart.DEFAULT_FUND),
    }
    rows: list[EventLiability] = []
    defaulted = False
    for event in result.events:
        charge = next(
            (c for c in event.members if c.member == member_id),
            MemberCharge(member_id, zero, zero, zero),
        )
        own = zero
        if defaulted:
            role = MemberRole.DEFAULTED_BEFORE
        elif member_id in event.defaulters:
            role = MemberRole.DEFAULTER
            defaulted = True
            # The journal is the record of what each resource gave (principle: every
            # number explains itself), including cover of a co-defaulter's loss.
            for entry in result.journal:
                if entry.event == event.index and entry.rule in own_rules:
                    for posting in entry.postings:
                        if posting.account in accounts and posting.amount.amount < 0:
                            own -= posting.amount
        else:
            role = MemberRole.SURVIVOR
        rows.append(EventLiability(event.index, event.date, role, charge, own))
    return tuple(rows)
