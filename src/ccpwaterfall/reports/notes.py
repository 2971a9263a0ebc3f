"""Texts a view shares with a command's help, and the default table lengths.

Kept apart from the views so that a command can show its help, and register
itself, without loading the views (and numpy) behind it.
"""

from __future__ import annotations

MEMBERS_SHOWN = 20  # member tables show the largest rows, then one line for the rest
SUMMARY_ROWS = 5  # the end-of-day summary shows fewer

CAPITAL_EAD_NOTE = (
    "EAD stand-in: each member's worst stress loss over the stress scenarios, gross of "
    "collateral (SA-CCR needs trade-level data the engine does not hold); its margin and "
    "own contribution are netted as Basel CRE54.29 does."
)
