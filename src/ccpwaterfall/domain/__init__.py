"""Value objects of a CCP default waterfall: pure, frozen, exact.

Glossary (the only abbreviations used in names):

- CCP: central counterparty, the clearing house.
- IM: initial margin, collateral each member posts against its own portfolio.
- VM: variation margin, the daily settlement of gains and losses.
- DF: default fund, the members' mutualised prefunded contributions.
- SITG: skin in the game, the CCP's own capital placed in the waterfall.
- MPOR: margin period of risk, the close-out horizon of a defaulter's portfolio.
- Cover-N: the fund survives the default of the N largest member groups.
"""

from ccpwaterfall.domain.calendar import add_business_days, is_business_day
from ccpwaterfall.domain.case import (
    ALLOCATIONS,
    Auction,
    Case,
    CoolingOff,
    Default,
    DefaultEvent,
    Member,
    Rulebook,
    Tranche,
    TrancheKind,
    auction_problems,
    group_events,
)
from ccpwaterfall.domain.money import (
    Currency,
    CurrencyMismatchError,
    Money,
    UnknownCurrencyError,
    allocate_pro_rata,
    allocate_pro_rata_capped,
    currency,
    split_pro_rata,
    split_pro_rata_capped,
)

__all__ = [
    "ALLOCATIONS",
    "Auction",
    "Case",
    "CoolingOff",
    "Currency",
    "CurrencyMismatchError",
    "Default",
    "DefaultEvent",
    "Member",
    "Money",
    "Rulebook",
    "Tranche",
    "TrancheKind",
    "UnknownCurrencyError",
    "add_business_days",
    "allocate_pro_rata",
    "allocate_pro_rata_capped",
    "auction_problems",
    "currency",
    "group_events",
    "is_business_day",
    "split_pro_rata",
    "split_pro_rata_capped",
]
