"""The diff view: what changed per member between two saved results, as a table and JSON.

Figures are the decimal strings stored; changes are exact (``Decimal``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.reports.history_view import KIND_NAMES, MEASURE_TITLES, MEASURES, SavedResult
from ccpwaterfall.reports.layout import Column, FitTable, clean
from ccpwaterfall.reports.notes import MEMBERS_SHOWN
from ccpwaterfall.store import Saved


@dataclass(frozen=True, slots=True)
class Change:
    before: str | None
    after: str | None

    @property
    def change(self) -> str:
        return format(Decimal(self.after or 0) - Decimal(self.before or 0), "f")

    @property
    def changed(self) -> bool:
        return Decimal(self.after or 0) != Decimal(self.before or 0)


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed per member between two saved results."""

    before: Saved
    after: Saved
    currency: str | None
    measures: tuple[str, ...]
    members: tuple[tuple[str, Mapping[str, Change]], ...]  # every member of either, by id

    @property
    def changed(self) -> tuple[tuple[str, Mapping[str, Change]], ...]:
        return tuple(
            (member, changes)
            for member, changes in self.members
            if any(c.changed for c in changes.values())
        )

    def totals(self) -> dict[str, Change]:
        out: dict[str, Change] = {}
        for measure in self.measures:
            before = sum((Decimal(c[measure].before or 0) for _, c in self.members), Decimal(0))
            after = sum((Decimal(c[measure].after or 0) for _, c in self.members), Decimal(0))
            out[measure] = Change(format(before, "f"), format(after, "f"))
        return out


def member_diff(before: SavedResult, after: SavedResult) -> Diff:
    """Every member of either result, each measure either has, before and after."""
    old, new = before.members(), after.members()
    present = {k for figures in (*old.values(), *new.values()) for k in figures}
    measures = tuple(m for m in MEASURES if m in present)
    rows = []
    for member in sorted(old.keys() | new.keys()):
        a, b = old.get(member, {}), new.get(member, {})
        rows.append((member, {m: Change(a.get(m), b.get(m)) for m in measures}))
    return Diff(before.saved, after.saved, after.currency(), measures, tuple(rows))


def _change_json(change: Change) -> dict[str, object]:
    return {"before": change.before, "after": change.after, "change": change.change}


def diff_to_json(diff: Diff) -> dict[str, object]:
    """The ``ccp-diff/1`` document: both saves, and every member's figures and changes."""
    return {
        "format": "ccp-diff/1",
        "before": diff.before.to_json(),
        "after": diff.after.to_json(),
        "currency": diff.currency,
        "measures": list(diff.measures),
        "members": {
            member: {m: _change_json(c) for m, c in changes.items()}
            for member, changes in diff.members
        },
        "changed": [member for member, _ in diff.changed],
        "totals": {m: _change_json(c) for m, c in diff.totals().items()},
    }


def _describe(saved: Saved) -> str:
    date = f" of {saved.business_date}" if saved.business_date else ""
    return f"{KIND_NAMES.get(saved.kind, saved.kind)} {saved.id}{date}"


def _largest_change(changes: Mapping[str, Change]) -> Decimal:
    return max((abs(Decimal(c.change)) for c in changes.values()), default=Decimal(0))


def render_diff(diff: Diff, top: int | None = MEMBERS_SHOWN) -> RenderableType:
    """The ``top`` members whose figures changed most (all: None), largest change first:
    before, after and the change of each figure that changed; then the totals."""
    title = f"Changes from {_describe(diff.before)} to {_describe(diff.after)}"
    if diff.currency:
        title += f" ({diff.currency})"
    changed = sorted(diff.changed, key=lambda row: (-_largest_change(row[1]), row[0]))
    if not changed:
        return Group(
            Text(title), Text(f"No member's figures changed ({len(diff.members)} members).")
        )
    table = FitTable(
        (
            Column("Member"),
            Column("Figure"),
            Column("Before", numeric=True),
            Column("After", numeric=True),
            Column("Change", numeric=True),
        ),
        title=title,
    )
    for member, changes in changed[:top]:
        rows = [(m, c) for m, c in changes.items() if c.changed]
        for i, (measure, c) in enumerate(rows):
            table.add_row(
                clean(member) if i == 0 else "",
                MEASURE_TITLES[measure],
                _figure(c.before),
                _figure(c.after),
                _signed(c.change),
            )
    table.add_section()
    for i, (measure, c) in enumerate(diff.totals().items()):
        if c.changed:
            table.add_row(
                "Total" if i == 0 else "",
                MEASURE_TITLES[measure],
                _figure(c.before),
                _figure(c.after),
                _signed(c.change),
            )
    unchanged = len(diff.members) - len(changed)
    summary = f"{len(changed)} members changed, {unchanged} unchanged"
    if top is not None and len(changed) > top:
        summary += f"; the {top} largest changes shown (--all shows every member)"
    return Group(table, Text(summary))


def _figure(value: str | None) -> str:
    return "-" if value is None else f"{Decimal(value):,}"


def _signed(value: str) -> str:
    return f"{Decimal(value):+,}"
