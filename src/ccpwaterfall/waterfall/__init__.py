"""Loss allocation through the default waterfall: define, resolve, compute."""

from ccpwaterfall.waterfall.result import CaseResult, EventResult, MemberCharge, TrancheResult

__all__ = ["CaseResult", "EventResult", "MemberCharge", "TrancheResult"]
