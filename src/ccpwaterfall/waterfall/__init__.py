"""Loss allocation through the default waterfall: define, resolve, compute.

``resolve_case`` looks every reference of a case up once; ``run_waterfall``
computes the result and the journal from the resolved case; ``run_case`` does
both. Each tranche kind has one rule function in ``RULES``.
"""

from ccpwaterfall.waterfall.engine import run_case, run_waterfall
from ccpwaterfall.waterfall.resolve import resolve_case
from ccpwaterfall.waterfall.resolved import ResolvedCase, ResolvedEvent
from ccpwaterfall.waterfall.result import (
    CaseResult,
    EventResult,
    MemberCharge,
    ReplenishmentCall,
    TrancheResult,
)
from ccpwaterfall.waterfall.rules import RULES
from ccpwaterfall.waterfall.state import EventContext, TrancheOutcome, TrancheRule, WaterfallState

__all__ = [
    "RULES",
    "CaseResult",
    "EventContext",
    "EventResult",
    "MemberCharge",
    "ReplenishmentCall",
    "ResolvedCase",
    "ResolvedEvent",
    "TrancheOutcome",
    "TrancheResult",
    "TrancheRule",
    "WaterfallState",
    "resolve_case",
    "run_case",
    "run_waterfall",
]
