"""Every figure a command gives in JSON is printed whole in its text view, at any width.

Each table-producing command runs at 60, 80 and 200 columns, as when piped
(``COLUMNS`` set, standard output not a terminal). The figures of its
``--json`` output, formatted the way the view formats them, must each appear
whole: not cut by an ellipsis, not split across lines, not the tail of a
longer number. No line may be wider than the width.

The risk commands read the demo CCP from its files once, then each runs in full.
"""

from __future__ import annotations

import functools
import io
import json
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from case_samples import EXAMPLES
from ccpwaterfall.app import Loaders
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.domain import Money, currency
from ccpwaterfall.io import load_case
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.reports.compare_view import compare_view, render_compare
from ccpwaterfall.reports.formatting import compact_amount, format_amount, format_money
from ccpwaterfall.reports.run_view import render_run, run_view
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.summary import summarise

WIDTHS = (60, 80, 200)
DEMO = EXAMPLES / "demo-ccp" / "case.toml"
PLAIN_CASES = sorted(p for p in EXAMPLES.glob("*/case.toml") if p.parent.name != "demo-ccp")
NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"
CME = EXAMPLES / "cme-base-style" / "case.toml"
MAJOR = EXAMPLES / "major-ccp" / "case.toml"


# The demo case is read from its files once; every command runs on it in full.
DEMO_LOADERS = Loaders(risk_case=functools.cache(load_risk_case))


@pytest.fixture
def demo() -> Path:
    return DEMO


def _invoke(*args: str | Path, width: int = 80) -> str:
    result = CliRunner().invoke(
        create_app(DEMO_LOADERS), [str(a) for a in args], env={"COLUMNS": str(width)}
    )
    assert result.exit_code == 0, result.stderr
    return result.stdout


def _json(*args: str | Path) -> Any:
    return json.loads(_invoke(*args, "--json"))


def _money(amount: str, code: str) -> Money:
    return Money(Decimal(amount), currency(code))


def _whole(figure: str, text: str) -> bool:
    """``figure`` appears in ``text`` as a whole: no digit or separator glued to either end."""
    return re.search(rf"(?<![\d.,]){re.escape(figure)}(?![\d,]|\.\d)", text) is not None


def _check_layout(text: str, width: int) -> None:
    for line in text.splitlines():
        assert len(line) <= width, line
    assert "…" not in text


def _assert_whole(figures: list[str], text: str) -> None:
    assert figures
    missing = [f for f in figures if not _whole(f, text)]
    assert missing == []


def _run_figures(result: Any) -> list[str]:
    ccy = result["currency"]
    compact = [
        compact_amount(_money(tranche[key], ccy))
        for event in result["events"]
        for tranche in event["tranches"]
        for key in ("available", "used", "remaining")
    ]
    members = [
        compact_amount(_money(charge[key], ccy))
        for event in result["events"]
        for charge in event["members"].values()
        for key in ("default_fund", "assessment", "vm_haircut", "total")
    ]
    exact = [format_money(_money(event["loss"], ccy)) for event in result["events"]]
    exact.append(format_money(_money(result["totals"]["uncovered"], ccy)))
    return compact + members + exact


# --------------------------------------------------------------------------- case commands


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("case", [NASDAQ, MAJOR], ids=lambda p: p.parent.name)
def test_run_prints_every_figure_whole(case: Path, width: int) -> None:
    text = _invoke("run", case, "--all", width=width)
    _check_layout(text, width)
    _assert_whole(_run_figures(_json("run", case)), text)


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_prints_every_figure_whole(width: int) -> None:
    text = _invoke("explain", NASDAQ, width=width)
    _check_layout(text, width)
    result = _json("run", NASDAQ)
    ccy = result["currency"]
    figures = [
        format_amount(_money(tranche[key], ccy))
        for event in result["events"]
        for tranche in event["tranches"]
        for key in ("available", "used")
    ]
    _assert_whole(figures, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_liability_prints_every_figure_whole(width: int) -> None:
    text = _invoke("liability", CME, "--member", "M10", width=width)
    _check_layout(text, width)
    data = _json("liability", CME, "--member", "M10")
    ccy = data["currency"]
    exact = [
        format_amount(_money(data[key], ccy))
        for key in ("default_fund_at_risk", "vm_gains_at_risk", "max_total")
    ]
    exact += [format_amount(_money(cap["cap"], ccy)) for cap in data["assessment_caps"]]
    compact = [
        compact_amount(_money(row[key], ccy))
        for row in data["events"]
        for key in ("default_fund", "assessment", "vm_haircut", "total")
    ]
    _assert_whole(exact + compact, text)


_COMPARED = ("loss", "defaulter_resources_used", "ccp_capital_used", "member_fund_used")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("count", [1, 6, 12])
def test_compare_prints_every_figure_whole(count: int, width: int) -> None:
    cases = [PLAIN_CASES[i % len(PLAIN_CASES)] for i in range(count)]
    text = _invoke("compare", *cases, width=width)
    _check_layout(text, width)
    figures = [
        f"{summary['currency']} {compact_amount(_money(summary[key], summary['currency']))}"
        for summary in _json("compare", *cases)["cases"]
        for key in _COMPARED
    ]
    _assert_whole(figures, text)
    assert "100.0..." not in text


# --------------------------------------------------------------------------- risk commands


def _compact(ccy: str) -> Callable[[str], str]:
    return lambda amount: compact_amount(_money(amount, ccy))


@pytest.mark.parametrize("width", WIDTHS)
def test_margin_prints_every_figure_whole(demo: Path, width: int) -> None:
    text = _invoke("margin", demo, "--all", width=width)
    _check_layout(text, width)
    data = _json("margin", demo)
    compact = _compact(data["currency"])
    figures = [compact(m["initial_margin"]) for m in data["members"]]
    figures.append(format_money(_money(data["total"], data["currency"])))
    _assert_whole(figures, text)
    for member in data["members"]:
        assert _whole(member["id"], text)


@pytest.mark.parametrize("width", WIDTHS)
def test_stress_prints_every_figure_whole(demo: Path, width: int) -> None:
    text = _invoke("stress", demo, width=width)
    _check_layout(text, width)
    data = _json("stress", demo)
    ccy = data["currency"]
    compact = _compact(ccy)
    figures = [compact(s[key]) for s in data["scenarios"] for key in ("two_largest", "all_groups")]
    figures += [
        compact(g["exposure"])
        for s in data["scenarios"]
        for g in s["largest"]
        if Decimal(g["exposure"]) > 0
    ]
    figures += [
        format_money(_money(data[key]["amount"], ccy))
        for key in ("cover1", "cover2", "art42_floor", "cover_beyond_own_fund")
    ]
    _assert_whole(figures, text)
    groups = {g["group"] for s in data["scenarios"] for g in s["largest"]}
    for group in groups:
        assert _whole(group, text)
    assert "grid" in text


def _fund_figures(data: Any, ccy: str) -> list[str]:
    compact = _compact(ccy)
    figures = [format_amount(_money(v, ccy)) for v in data["contributions"].values()]
    figures.append(format_money(_money(data["fund"], ccy)))
    figures += [
        compact(drill[key])
        for drill in data["drills"]
        for key in ("loss", "member_fund_used", "assessments", "uncovered")
    ]
    return figures


@pytest.mark.parametrize("width", WIDTHS)
def test_size_fund_prints_every_figure_whole(demo: Path, width: int) -> None:
    text = _invoke("size-fund", demo, width=width)
    _check_layout(text, width)
    data = _json("size-fund", demo)
    _assert_whole(_fund_figures(data, data["currency"]), text)


@pytest.mark.parametrize("width", WIDTHS)
def test_capital_prints_every_figure_whole(demo: Path, width: int) -> None:
    text = _invoke("capital", demo, "--all", width=width)
    _check_layout(text, width)
    data = _json("capital", demo)
    ccy = data["currency"]
    compact = _compact(ccy)
    figures = [
        compact(figures[key])
        for figures in data["members"].values()
        for key in ("ead", "initial_margin", "default_fund", "k_cm", "rwa", "crr310")
    ]
    figures.append(format_money(_money(data["k_ccp"], ccy)))
    _assert_whole(figures, text)


@pytest.mark.parametrize("width", WIDTHS)
def test_eod_prints_every_figure_whole(demo: Path, width: int) -> None:
    text = _invoke("eod", demo, "--all", width=width)
    _check_layout(text, width)
    data = _json("eod", demo)
    ccy = data["currency"]
    compact = _compact(ccy)
    figures = [compact(m["initial_margin"]) for m in data["margin"]["members"]]
    figures += _fund_figures(data["fund"], ccy)
    figures += _run_figures(data["worst_drill"]["result"])
    _assert_whole(figures, text)


# --------------------------------------------------------------------------- any width


def _rendered(renderable: RenderableType, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def test_no_width_cuts_a_figure_of_the_run_or_compare_views() -> None:
    # Every width from narrow to wide, not only the usual ones: the layout switches
    # between columns, wrapped text and the vertical form without losing a figure.
    loaded = [load_case(path) for path in (NASDAQ, MAJOR)]
    results = [run_case(case) for case in loaded]
    summaries = [summarise(result) for result in results]
    figures = {
        compact_amount(tranche.used)
        for result in results
        for event in result.events
        for tranche in event.tranches
    }
    compared = {f"{s.currency.code} {compact_amount(s.loss)}" for s in summaries}
    for width in range(40, 161, 3):
        text = "\n".join(_rendered(render_run(run_view(r, None)), width) for r in results)
        assert [f for f in sorted(figures) if not _whole(f, text)] == [], width
        text = _rendered(render_compare(compare_view(summaries * 3)), width)
        assert [f for f in sorted(compared) if not _whole(f, text)] == [], width
        assert "…" not in text
