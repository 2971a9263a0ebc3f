"""ccpwaterfall: the default waterfall of a central counterparty (CCP).

The main entry points, importable from here (see docs/api.md)::

    import ccpwaterfall as ccp

    case = ccp.load_case("examples/nasdaq-2018/case.toml")
    result = ccp.run_case(case)

Layers, bottom to top: ``domain`` (value objects, exact money), ``ledger``
(journal of balanced entries), ``waterfall`` (loss allocation), ``risk``
(margin, stress tests, Cover-N, fund sizing, capital), ``lifecycle`` (the end
of day and default drills tying risk to the waterfall), ``samples`` (sample
CCPs), ``io`` (files), ``reports`` (tables) and ``cli`` (the ``ccp`` command).

Names are imported on first use, so ``import ccpwaterfall`` loads neither
numpy, scipy nor pandas until a risk function is asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccpwaterfall._lazy import lazy_names

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "Case": "ccpwaterfall.domain",
    "Currency": "ccpwaterfall.domain",
    "Default": "ccpwaterfall.domain",
    "Member": "ccpwaterfall.domain",
    "Money": "ccpwaterfall.domain",
    "Rulebook": "ccpwaterfall.domain",
    "Tranche": "ccpwaterfall.domain",
    "TrancheKind": "ccpwaterfall.domain",
    "currency": "ccpwaterfall.domain",
    "CaseResult": "ccpwaterfall.waterfall",
    "EventResult": "ccpwaterfall.waterfall",
    "MemberCharge": "ccpwaterfall.waterfall",
    "ReplenishmentCall": "ccpwaterfall.waterfall",
    "TrancheResult": "ccpwaterfall.waterfall",
    "run_case": "ccpwaterfall.waterfall",
    "InputError": "ccpwaterfall.io",
    "Issue": "ccpwaterfall.io",
    "dumps_result": "ccpwaterfall.io",
    "load_case": "ccpwaterfall.io",
    "write_case": "ccpwaterfall.io",
    "RiskCase": "ccpwaterfall.io.risk_case",
    "load_risk_case": "ccpwaterfall.io.risk_case",
    "EndOfDay": "ccpwaterfall.lifecycle",
    "EndOfDayInputs": "ccpwaterfall.lifecycle",
    "end_of_day": "ccpwaterfall.lifecycle",
}

__all__ = [
    "Case",
    "CaseResult",
    "Currency",
    "Default",
    "EndOfDay",
    "EndOfDayInputs",
    "EventResult",
    "InputError",
    "Issue",
    "Member",
    "MemberCharge",
    "Money",
    "ReplenishmentCall",
    "RiskCase",
    "Rulebook",
    "Tranche",
    "TrancheKind",
    "TrancheResult",
    "__version__",
    "currency",
    "dumps_result",
    "end_of_day",
    "load_case",
    "load_risk_case",
    "run_case",
    "write_case",
]

if TYPE_CHECKING:
    from ccpwaterfall.domain import (
        Case,
        Currency,
        Default,
        Member,
        Money,
        Rulebook,
        Tranche,
        TrancheKind,
        currency,
    )
    from ccpwaterfall.io import InputError, Issue, dumps_result, load_case, write_case
    from ccpwaterfall.io.risk_case import RiskCase, load_risk_case
    from ccpwaterfall.lifecycle import EndOfDay, EndOfDayInputs, end_of_day
    from ccpwaterfall.waterfall import (
        CaseResult,
        EventResult,
        MemberCharge,
        ReplenishmentCall,
        TrancheResult,
        run_case,
    )


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
