"""The compare view: cases side by side, one column per case.

Laid out like the published comparisons of real defaults (Nasdaq Clearing
2018 against the Korea Exchange 2013): one row per layer of the waterfall.
Each case is shown in its own currency; nothing is converted. ``compare_view``
decides every cell once; ``render_compare`` and ``compare_to_json``
(``ccp-compare/1``) both read it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from rich.text import Text

from ccpwaterfall.domain import Money
from ccpwaterfall.reports.formatting import compact_amount, format_share
from ccpwaterfall.reports.layout import Column, FitTable, clean
from ccpwaterfall.waterfall.summary import CaseSummary

_SHARE_QUANTUM = Decimal("0.000001")


def _money(pick: Callable[[CaseSummary], Money]) -> Callable[[CaseSummary], str]:
    def cell(summary: CaseSummary) -> str:
        amount = pick(summary)
        return f"{amount.currency.code} {compact_amount(amount)}"

    return cell


_ROWS: tuple[tuple[str, Callable[[CaseSummary], str]], ...] = (
    ("CCP", lambda s: clean(s.ccp)),
    ("Currency", lambda s: s.currency.code),
    ("Events", lambda s: str(s.events)),
    ("Loss", _money(lambda s: s.loss)),
    ("Defaulter resources used", _money(lambda s: s.defaulter_resources_used)),
    ("CCP capital used", _money(lambda s: s.ccp_capital_used)),
    ("Members' fund", _money(lambda s: s.member_fund_before)),
    ("Members' fund used", _money(lambda s: s.member_fund_used)),
    ("Share of fund used", lambda s: format_share(s.member_fund_share_used)),
    ("Assessments", _money(lambda s: s.assessments)),
    ("VM gains haircut", _money(lambda s: s.vm_haircut)),
    ("Uncovered", _money(lambda s: s.uncovered)),
)


@dataclass(frozen=True, slots=True)
class CompareRow:
    """One layer across the cases: its label, one cell per case, and which cells alarm."""

    label: str
    cells: tuple[str, ...]
    alarms: tuple[bool, ...]  # an uncovered loss, shown in bold red


@dataclass(frozen=True, slots=True)
class CompareView:
    """Cases side by side: one column per case, one row per layer; ``cases`` the exact
    figures behind the cells."""

    columns: tuple[str, ...]
    rows: tuple[CompareRow, ...]
    cases: tuple[CaseSummary, ...]


def compare_view(summaries: Sequence[CaseSummary]) -> CompareView:
    """The view of ``summaries`` side by side, in the order given."""
    return CompareView(
        columns=tuple(summary.case for summary in summaries),
        rows=tuple(
            CompareRow(
                label,
                tuple(cell(s) for s in summaries),
                tuple(label == "Uncovered" and not s.uncovered.is_zero() for s in summaries),
            )
            for label, cell in _ROWS
        ),
        cases=tuple(summaries),
    )


def render_compare(view: CompareView) -> FitTable:
    """One column per case, one row per layer; an uncovered loss shows in bold red.

    "Members' fund" is the survivors' contributions before the first event,
    the fund that could be drawn; the share used is of that fund. Too many
    cases for the width show one block per layer instead.
    """
    table = FitTable(
        (
            Column("", style="dim"),
            *(Column(clean(case), numeric=True) for case in view.columns),
        ),
        title="Cases compared",
        by_column=True,
    )
    for row in view.rows:
        cells = [
            Text(cell, style="bold red" if alarm else "")
            for cell, alarm in zip(row.cells, row.alarms, strict=True)
        ]
        table.add_row(row.label, *cells, words=row.label == "CCP")
    return table


def compare_to_json(view: CompareView) -> dict[str, object]:
    """The compared cases as JSON-ready data; amounts are exact decimal strings."""
    return {
        "format": "ccp-compare/1",
        "cases": [_summary_to_json(s) for s in view.cases],
    }


def _summary_to_json(summary: CaseSummary) -> dict[str, object]:
    share = summary.member_fund_share_used
    return {
        "case": summary.case,
        "ccp": summary.ccp,
        "currency": summary.currency.code,
        "events": summary.events,
        "loss": str(summary.loss.amount),
        "defaulter_resources_used": str(summary.defaulter_resources_used.amount),
        "ccp_capital_used": str(summary.ccp_capital_used.amount),
        "member_fund_before": str(summary.member_fund_before.amount),
        "member_fund_used": str(summary.member_fund_used.amount),
        "member_fund_share_used": None if share is None else str(share.quantize(_SHARE_QUANTUM)),
        "assessments": str(summary.assessments.amount),
        "vm_haircut": str(summary.vm_haircut.amount),
        "uncovered": str(summary.uncovered.amount),
    }
