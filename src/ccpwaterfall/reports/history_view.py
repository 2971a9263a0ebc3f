"""The history view: saved results listed newest first, one saved result shown, a verification.

``SavedResult`` is a save read back with its records; ``members`` gives each
member's figures in it (``MEASURES``): for an end of day its margin,
contribution, stress loss and fund charges, for a run its charges over all events.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Group, RenderableType
from rich.text import Text

from ccpwaterfall.reports.layout import Column, FitTable, Heading, clean, pairs
from ccpwaterfall.store import DRILL, EOD, RUN, Saved, StoredRecord, Verification

# The figures compared per member, in the order shown.
MEASURES: tuple[str, ...] = (
    "initial_margin",
    "contribution",
    "stress_loss",
    "default_fund",
    "assessment",
    "vm_haircut",
    "fund_charges",
)

MEASURE_TITLES: Mapping[str, str] = {
    "initial_margin": "Margin",
    "contribution": "Contribution",
    "stress_loss": "Stress loss",
    "default_fund": "Default fund",
    "assessment": "Assessment",
    "vm_haircut": "VM haircut",
    "fund_charges": "Fund charges",
}

KIND_NAMES: Mapping[str, str] = {RUN: "run", EOD: "end of day", DRILL: "drill"}


@dataclass(frozen=True, slots=True)
class SavedResult:
    """A saved result read back: what ``ccp history`` lists and every record it wrote."""

    saved: Saved
    records: tuple[StoredRecord, ...]

    def document(self, kind: str) -> dict[str, object] | None:
        for record in self.records:
            if record.kind == kind:
                return record.value()
        return None

    def members(self) -> dict[str, dict[str, str]]:
        """Each member's figures (``MEASURES``) in this result."""
        if self.saved.kind == EOD:
            snapshot = self.document("snapshot") or {}
            members = snapshot.get("members", {})
            assert isinstance(members, dict)
            return {
                member: {k: str(v) for k, v in figures.items() if k in MEASURES}
                for member, figures in members.items()
            }
        if self.saved.kind == RUN:
            return run_member_figures(self.document("result") or {})
        return {}

    def currency(self) -> str | None:
        content = self.document("result") or self.document("snapshot") or {}
        value = content.get("currency")
        return value if isinstance(value, str) else None

    def to_json(self) -> dict[str, object]:
        return {
            **self.saved.to_json(),
            "records": [
                {
                    "id": r.id,
                    "sequence": r.sequence,
                    "kind": r.kind,
                    "content_hash": r.content_hash,
                    "previous_hash": r.previous_hash,
                    "record_hash": r.record_hash,
                    "content": r.value(),
                }
                for r in self.records
            ],
        }


def run_member_figures(result: object) -> dict[str, dict[str, str]]:
    """Each member's charges over a ``ccp-result/1`` document's events, summed exactly."""
    totals: dict[str, dict[str, Decimal]] = {}
    events = result.get("events", []) if isinstance(result, Mapping) else []
    for event in events:
        for member, charge in event.get("members", {}).items():
            figures = totals.setdefault(member, {})
            for source, measure in (
                ("default_fund", "default_fund"),
                ("assessment", "assessment"),
                ("vm_haircut", "vm_haircut"),
                ("total", "fund_charges"),
            ):
                figures[measure] = figures.get(measure, Decimal(0)) + Decimal(charge[source])
    return {m: {k: format(v, "f") for k, v in f.items()} for m, f in totals.items()}


def history_to_json(saves: Sequence[Saved]) -> dict[str, object]:
    """The ``ccp-history/1`` document: every save, newest first."""
    return {"format": "ccp-history/1", "saves": [saved.to_json() for saved in saves]}


def render_history(saves: Sequence[Saved]) -> RenderableType:
    """The saves as a table, newest first."""
    if not saves:
        return Text("Nothing saved yet: ccp run CASE --save or ccp eod CASE --save saves a result.")
    table = FitTable(
        (
            Column("ID", numeric=True),
            Column("Kind"),
            Column("Case or drill"),
            Column("Business date"),
            Column("Saved at (UTC)"),
            Column("Records", numeric=True),
        ),
        title="Saved results, newest first",
    )
    for saved in saves:
        table.add_row(
            str(saved.id),
            KIND_NAMES.get(saved.kind, saved.kind),
            clean(saved.label),
            saved.business_date or "",
            saved.saved_at[:19].replace("T", " "),
            str(saved.n_records),
            words=True,
        )
    return table


def show_to_json(result: SavedResult) -> dict[str, object]:
    """The ``ccp-saved/1`` document: the save and every record with its hashes and content."""
    return {"format": "ccp-saved/1", **result.to_json()}


def render_saved(result: SavedResult) -> RenderableType:
    """A saved result: what it is, its records and their hashes, and its member figures."""
    saved = result.saved
    facts = [
        ("ID", str(saved.id)),
        ("Kind", KIND_NAMES.get(saved.kind, saved.kind)),
        ("Case or drill", clean(saved.label)),
        ("Saved at", saved.saved_at),
        ("Records", str(len(result.records))),
    ]
    if saved.business_date:
        facts.insert(3, ("Business date", saved.business_date))
    if result.records:
        facts.append(("Last record hash", result.records[-1].record_hash))
    parts: list[RenderableType] = [
        Heading(f"Saved {KIND_NAMES.get(saved.kind, saved.kind)} {saved.id}"),
        pairs(facts),
    ]
    records = FitTable(
        (Column("Position", numeric=True), Column("Kind"), Column("Content SHA-256 (start)")),
        title="Records",
    )
    for record in result.records[:RECORDS_SHOWN]:
        records.add_row(str(record.sequence), record.kind, record.content_hash[:16])
    parts.append(records)
    if len(result.records) > RECORDS_SHOWN:
        parts.append(
            Text(f"... and {len(result.records) - RECORDS_SHOWN} more records (--json lists all)")
        )
    members = result.members()
    if members:
        measures = [m for m in MEASURES if any(m in f for f in members.values())]
        table = FitTable(
            (Column("Member"), *(Column(MEASURE_TITLES[m], numeric=True) for m in measures)),
            title=f"Members ({result.currency() or ''})".replace(" ()", ""),
        )
        for member, figures in sorted(members.items()):
            table.add_row(clean(member), *(_figure(figures.get(m)) for m in measures))
        parts.append(table)
    return Group(*parts)


def _figure(value: str | None) -> str:
    return "" if value is None else f"{Decimal(value):,}"


RECORDS_SHOWN = 20


def verify_to_json(verification: Verification) -> dict[str, object]:
    bad = verification.first_bad
    return {
        "format": "ccp-verify/1",
        "intact": verification.intact,
        "chains": verification.chains,
        "records": verification.records,
        "first_bad": None
        if bad is None
        else {
            "record": bad.record_id,
            "save": bad.save_id,
            "chain": bad.chain,
            "position": bad.sequence,
            "reason": bad.reason,
        },
    }


def verify_text(verification: Verification) -> str:
    """One line: every chain intact, or the first record that does not match."""
    if verification.first_bad is None:
        return (
            f"intact: {verification.records:,} records in {verification.chains:,} "
            f"chain{'' if verification.chains == 1 else 's'} match their hashes"
        )
    return f"TAMPERED: {clean(str(verification.first_bad))}"
