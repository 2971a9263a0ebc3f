"""Tranche kinds: each one spec, registered by its name in case files.

A ``TrancheSpec`` holds everything about one kind of tranche: its title and
description, its parameters (which the case-file reader parses and the JSON
Schema describes from the same records), its own checks, its resolve step and
its rule. ``TRANCHE_KINDS`` is the registry of the built-in kinds; the engine,
the resolver, the case-file reader and the schema all take a registry, so a
new kind is one new spec and its tests.

The roles say what a tranche draws on, for the figures that group tranches
(a case's summary, a member's liability, the junior skin in the game ahead
of the fund): the defaulters' own resources, CCP capital, the survivors'
fund, assessments, VM gains.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType

from ccpwaterfall.domain import Currency, Member, Money, Tranche, TrancheKind
from ccpwaterfall.waterfall import rules
from ccpwaterfall.waterfall.resolved import ResolvedTranche
from ccpwaterfall.waterfall.state import TrancheRule


class TrancheRole(StrEnum):
    """What a tranche draws on."""

    DEFAULTER_MARGIN = "defaulter_margin"  # the defaulters' own initial margin
    DEFAULTER_FUND = "defaulter_fund"  # the defaulters' own contributions
    CCP_CAPITAL = "ccp_capital"  # the CCP's own resources
    MEMBER_FUND = "member_fund"  # the survivors' prefunded contributions
    ASSESSMENT = "assessment"  # cash calls on survivors
    VM_HAIRCUT = "vm_haircut"  # haircut of survivors' VM gains


class ParameterType(StrEnum):
    """How a tranche parameter is written in a case file."""

    AMOUNT = "amount"  # money: an integer or a quoted decimal with k/m/bn
    MULTIPLE = "multiple"  # a plain decimal number >= 0
    FRACTION = "fraction"  # a plain decimal number from 0 to 1
    CHOICE = "choice"  # one word of ``choices``


@dataclass(frozen=True, slots=True)
class Parameter:
    """One key a tranche of a kind takes in a case file, besides ``kind`` and ``name``.

    ``name`` is the key, and the attribute of ``Tranche`` that holds its value.
    """

    name: str
    type: ParameterType
    required: bool
    description: str
    choices: tuple[str, ...] = ()
    default: str | None = None


def _plain(tranche: Tranche, index: int, members: Mapping[str, Member]) -> ResolvedTranche:
    return ResolvedTranche(index=index, kind=tranche.kind, label=tranche.label, terms=tranche)


def _no_check(index: int, waterfall: tuple[Tranche, ...]) -> Iterable[str]:
    return ()


@dataclass(frozen=True, slots=True)
class TrancheSpec:
    """One tranche kind: what it is, what it takes, how it resolves and how it draws.

    ``resolve`` looks up what the tranche needs once per case (amounts, each
    member's cap); ``rule`` computes what it gives in an event; ``check``
    returns the problems of a tranche in its waterfall beyond its parameters
    (each a sentence, the reader adds the field).
    """

    kind: str
    title: str
    description: str
    roles: tuple[TrancheRole, ...]
    rule: TrancheRule
    parameters: tuple[Parameter, ...] = ()
    resolve: Callable[[Tranche, int, Mapping[str, Member]], ResolvedTranche] = _plain
    check: Callable[[int, tuple[Tranche, ...]], Iterable[str]] = _no_check
    # True when one tranche of the kind uses all there is: a second one gives nothing.
    exhaustive: bool = False
    fields: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fields", frozenset(p.name for p in self.parameters))

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)


TrancheRegistry = Mapping[str, TrancheSpec]


def _capital(tranche: Tranche, index: int, members: Mapping[str, Member]) -> ResolvedTranche:
    assert tranche.amount is not None  # a required parameter of the kind
    return ResolvedTranche(
        index=index, kind=tranche.kind, label=tranche.label, terms=tranche, amount=tranche.amount
    )


def _floor_times(amounts: Mapping[str, Money], factor: Decimal) -> dict[str, Money]:
    """Each amount times ``factor``, rounded down: ``Money.times_floor`` for many at once.

    The factor becomes one exact fraction, not one per member.
    """
    ratio = Fraction(factor)
    num, den = ratio.numerator, ratio.denominator
    make = Money.from_minor_units
    return {m: make(a.minor_units * num // den, a.currency) for m, a in amounts.items()}


def _assessment_caps(
    tranche: Tranche, index: int, members: Mapping[str, Member]
) -> ResolvedTranche:
    multiple = tranche.cap_multiple
    assert multiple is not None  # a required parameter of the kind
    caps = _floor_times({m: member.default_fund for m, member in members.items()}, multiple)
    return ResolvedTranche(
        index=index, kind=tranche.kind, label=tranche.label, terms=tranche, caps=caps
    )


def _haircut_caps(tranche: Tranche, index: int, members: Mapping[str, Member]) -> ResolvedTranche:
    fraction = tranche.haircut_fraction
    caps = _floor_times({m: member.vm_gains for m, member in members.items()}, fraction)
    return ResolvedTranche(
        index=index, kind=tranche.kind, label=tranche.label, terms=tranche, caps=caps
    )


def _shared_partner(index: int, waterfall: tuple[Tranche, ...]) -> Iterable[str]:
    partner = waterfall[index].shared_with
    following = waterfall[index + 1].kind if index + 1 < len(waterfall) else None
    if partner is not None and following != partner:
        found = f"a {following} tranche" if following else "nothing"
        yield (
            f"shared_with is {partner!r}: the next tranche must be the {partner} tranche it is "
            f"drawn with, but {found} follows"
        )


_ALLOCATION = Parameter(
    "allocation",
    ParameterType.CHOICE,
    required=False,
    description=(
        "pro_rata (the default): all survivors pro rata to contribution; auction_tiers: in an "
        "event with an [[auctions]] entry, tier by tier, most junior first"
    ),
    choices=("pro_rata", "auction_tiers"),
    default="pro_rata",
)

DEFAULTER_MARGIN = TrancheSpec(
    kind=TrancheKind.DEFAULTER_MARGIN,
    title="Defaulter initial margin",
    description=(
        "The defaulter's own initial margin (its estate): covers its own loss only; what is "
        "left is returned to its estate."
    ),
    roles=(TrancheRole.DEFAULTER_MARGIN,),
    rule=rules.defaulter_margin,
    exhaustive=True,
)
DEFAULTER_DEFAULT_FUND = TrancheSpec(
    kind=TrancheKind.DEFAULTER_DEFAULT_FUND,
    title="Defaulter default fund",
    description=(
        "The defaulters' own default fund contributions: each covers its own remaining loss "
        "first, then what is left covers the other defaulters of the event."
    ),
    roles=(TrancheRole.DEFAULTER_FUND,),
    rule=rules.defaulter_default_fund,
    exhaustive=True,
)
CCP_CAPITAL = TrancheSpec(
    kind=TrancheKind.CCP_CAPITAL,
    title="CCP capital",
    description=(
        "Skin in the game: the CCP's own capital, up to amount; may appear more than once "
        "(junior, senior)."
    ),
    roles=(TrancheRole.CCP_CAPITAL,),
    rule=rules.ccp_capital,
    parameters=(
        Parameter("amount", ParameterType.AMOUNT, required=True, description="The capital."),
    ),
    resolve=_capital,
)
CCP_CAPITAL_PRO_RATA = TrancheSpec(
    kind=TrancheKind.CCP_CAPITAL_PRO_RATA,
    title="CCP capital pro rata",
    description=(
        "CCP capital used pro rata with the tranche that follows it (shared_with): the two "
        "draw together, the CCP's amount weighing as one more contribution, each within what "
        "is left of it (Eurex's second SITG with the fund, its dedicated amount with the "
        "assessments)."
    ),
    roles=(TrancheRole.CCP_CAPITAL,),
    rule=rules.ccp_capital_pro_rata,
    parameters=(
        Parameter("amount", ParameterType.AMOUNT, required=True, description="The capital."),
        Parameter(
            "shared_with",
            ParameterType.CHOICE,
            required=True,
            description=(
                "The kind of the next tranche, drawn together with this one: "
                "member_default_fund or assessments."
            ),
            choices=(TrancheKind.MEMBER_DEFAULT_FUND.value, TrancheKind.ASSESSMENTS.value),
        ),
    ),
    resolve=_capital,
    check=_shared_partner,
)
MEMBER_DEFAULT_FUND = TrancheSpec(
    kind=TrancheKind.MEMBER_DEFAULT_FUND,
    title="Members' default fund",
    description=(
        "The surviving members' contributions, pro rata to contribution (or by auction tier), "
        "each at most what is left of it."
    ),
    roles=(TrancheRole.MEMBER_FUND,),
    rule=rules.member_default_fund,
    parameters=(_ALLOCATION,),
    exhaustive=True,
)
ASSESSMENTS = TrancheSpec(
    kind=TrancheKind.ASSESSMENTS,
    title="Assessments",
    description=(
        "Cash calls on survivors, pro rata to contribution (or by auction tier), each at most "
        "cap_multiple times its contribution, per cooling-off period where there is one."
    ),
    roles=(TrancheRole.ASSESSMENT,),
    rule=rules.assessments,
    parameters=(
        Parameter(
            "cap_multiple",
            ParameterType.MULTIPLE,
            required=True,
            description="Each survivor owes at most this multiple of its contribution.",
        ),
        _ALLOCATION,
    ),
    resolve=_assessment_caps,
)
VM_GAINS_HAIRCUT = TrancheSpec(
    kind=TrancheKind.VM_GAINS_HAIRCUT,
    title="VM gains haircut",
    description=(
        "Haircut of the variation margin gains owed to survivors, pro rata to gains, at most "
        "max_fraction of each over the whole default period."
    ),
    roles=(TrancheRole.VM_HAIRCUT,),
    rule=rules.vm_gains_haircut,
    parameters=(
        Parameter(
            "max_fraction",
            ParameterType.FRACTION,
            required=False,
            description="At most this fraction of each member's gains (default 1).",
            default="1",
        ),
    ),
    resolve=_haircut_caps,
)

TRANCHE_KINDS: TrancheRegistry = MappingProxyType(
    {
        spec.kind: spec
        for spec in (
            DEFAULTER_MARGIN,
            DEFAULTER_DEFAULT_FUND,
            CCP_CAPITAL,
            CCP_CAPITAL_PRO_RATA,
            MEMBER_DEFAULT_FUND,
            ASSESSMENTS,
            VM_GAINS_HAIRCUT,
        )
    }
)
"""The built-in tranche kinds, by their name in case files."""


def roles_of(tranche: Tranche, kinds: TrancheRegistry = TRANCHE_KINDS) -> tuple[TrancheRole, ...]:
    """The roles of ``tranche``'s kind (none for a kind the registry does not know)."""
    spec = kinds.get(tranche.kind)
    return () if spec is None else spec.roles


def junior_capital(
    waterfall: Iterable[Tranche], ccy: Currency, kinds: TrancheRegistry = TRANCHE_KINDS
) -> Money:
    """The CCP capital drawn on its own before any tranche draws on the survivors' fund.

    Capital tranches ahead of the first tranche with the survivors' fund role,
    and ahead of capital shared pro rata with the fund (which is not junior to
    it).
    """
    total = Money.zero(ccy)
    for tranche in waterfall:
        roles = roles_of(tranche, kinds)
        if TrancheRole.MEMBER_FUND in roles or tranche.shared_with is not None:
            break
        if TrancheRole.CCP_CAPITAL in roles and tranche.amount is not None:
            total += tranche.amount
    return total
