"""A journal of entries whose postings sum to zero per currency, and its balances.

Pure and exact: Decimal money only, no numpy.
"""

from ccpwaterfall.ledger.journal import (
    Entry,
    InvariantError,
    Journal,
    Posting,
    balances,
    balances_by,
)

__all__ = ["Entry", "InvariantError", "Journal", "Posting", "balances", "balances_by"]
