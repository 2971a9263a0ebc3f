"""Loss allocation through the default waterfall: define, resolve, compute.

``resolve_case`` looks every reference of a case up once; ``run_waterfall``
computes the result and the journal from the resolved case; ``run_case`` does
both. Each tranche kind is one spec in the registry ``TRANCHE_KINDS``.
"""

from ccpwaterfall.waterfall.engine import closing_balances, run_case, run_waterfall
from ccpwaterfall.waterfall.kinds import (
    TRANCHE_KINDS,
    Parameter,
    ParameterType,
    TrancheRegistry,
    TrancheRole,
    TrancheSpec,
)
from ccpwaterfall.waterfall.resolve import resolve_case, tranche_problems
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent, ResolvedTranche
from ccpwaterfall.waterfall.result import (
    CaseResult,
    EventResult,
    MemberCharge,
    MemberCharges,
    ReplenishmentCall,
    TrancheResult,
)
from ccpwaterfall.waterfall.state import EventContext, TrancheOutcome, TrancheRule, WaterfallState

__all__ = [
    "TRANCHE_KINDS",
    "CaseResult",
    "EventContext",
    "EventResult",
    "MemberCharge",
    "MemberCharges",
    "Parameter",
    "ParameterType",
    "ReplenishmentCall",
    "ResolvedCase",
    "ResolvedEvent",
    "ResolvedTranche",
    "TrancheOutcome",
    "TrancheRegistry",
    "TrancheResult",
    "TrancheRole",
    "TrancheRule",
    "TrancheSpec",
    "WaterfallState",
    "closing_balances",
    "resolve_case",
    "run_case",
    "run_waterfall",
    "tranche_problems",
]
