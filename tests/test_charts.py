"""Chart view models and their Vega-Lite drawings: the figures of the report views, exactly.

Each chart is built from a view the terminal already shows (``run_view``,
``margin_view``, ``fund_view``); the tests hold its bars to that view's exact
money, then check what the drawing encodes: rulebook order, the uncovered loss
in red, the others as one bar, ids of their own when several SVGs share a page.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from case_samples import EXAMPLES
from ccpwaterfall.domain import Money
from ccpwaterfall.io import load_case
from ccpwaterfall.reports.charts import (
    UNCOVERED_COLOUR,
    UNCOVERED_SEGMENT,
    USED_BAR,
    LiabilityChart,
    MemberChargesChart,
    WaterfallChart,
    chart_spec,
    chart_svg,
    contributions_chart,
    end_of_day_charts,
    liability_chart,
    margin_chart,
    member_charges_chart,
    run_charts,
    waterfall_chart,
)
from ccpwaterfall.reports.eod_view import EndOfDayView, eod_view
from ccpwaterfall.reports.formatting import format_money
from ccpwaterfall.reports.run_view import RunView, charge_table, run_view
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.summary import summarise

WATERFALL_EXAMPLES = sorted(
    p.parent.name for p in EXAMPLES.glob("*/case.toml") if p.parent.name != "demo-ccp"
)


def _run(example: str, top: int | None = None) -> RunView:
    return run_view(run_case(load_case(EXAMPLES / example / "case.toml")), top)


@cache
def _end_of_day() -> EndOfDayView:
    from ccpwaterfall.app import risk

    outcome = risk.end_of_day(EXAMPLES / "demo-ccp" / "case.toml")
    assert outcome.value is not None
    return eod_view(outcome.value, None, None)


def _total(amounts: list[Money]) -> Money:
    total = amounts[0]
    for amount in amounts[1:]:
        total += amount
    return total


def _data(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The chart's data rows, inline or in the named data set Altair puts them in."""
    data = spec["data"]
    rows: list[dict[str, Any]] = (
        data["values"] if "values" in data else spec["datasets"][data["name"]]
    )
    return rows


@pytest.mark.parametrize("example", WATERFALL_EXAMPLES)
def test_each_event_waterfall_holds_its_tranches_in_rulebook_order(example: str) -> None:
    view = _run(example)
    for event, result in zip(view.events, view.result.events, strict=True):
        chart = waterfall_chart(event)
        assert [t.order for t in chart.tranches] == list(range(1, len(result.tranches) + 1))
        assert [(t.name, t.available, t.used) for t in chart.tranches] == [
            (t.name, t.available, t.used) for t in result.tranches
        ]
        # What the tranches used and what none covered add up to the event's loss.
        assert _total([t.used for t in chart.tranches]) + chart.uncovered == result.loss
        assert chart.uncovered == result.uncovered


def test_the_uncovered_loss_is_a_red_segment_of_the_used_bar_and_named_in_the_title() -> None:
    view = _run("beyond-the-waterfall")
    chart = waterfall_chart(view.events[0])
    assert not chart.uncovered.is_zero()
    spec = chart_spec(chart)
    scale = spec["encoding"]["color"]["scale"]
    assert scale["domain"][-1] == UNCOVERED_SEGMENT
    assert scale["range"][-1] == UNCOVERED_COLOUR
    assert UNCOVERED_COLOUR not in scale["range"][:-1]
    uncovered = [row for row in _data(spec) if row["segment"] == UNCOVERED_SEGMENT]
    assert [(row["bar"], row["exact"]) for row in uncovered] == [
        (USED_BAR, format_money(chart.uncovered))
    ]
    assert format_money(chart.uncovered) in spec["title"]["subtitle"]


def test_a_covered_loss_has_no_uncovered_segment() -> None:
    spec = chart_spec(waterfall_chart(_run("nasdaq-2018").events[0]))
    assert UNCOVERED_SEGMENT not in spec["encoding"]["color"]["scale"]["domain"]
    assert all(row["segment"] != UNCOVERED_SEGMENT for row in _data(spec))


def test_tranches_stack_in_rulebook_order_with_their_exact_amounts() -> None:
    chart = waterfall_chart(_run("eurex-style").events[0])
    spec = chart_spec(chart)
    assert spec["encoding"]["order"] == {
        "field": "order",
        "type": "quantitative",
        "sort": "ascending",
    }
    assert spec["encoding"]["color"]["scale"]["domain"] == [t.label for t in chart.tranches]
    used = [row for row in _data(spec) if row["bar"] == USED_BAR]
    assert [row["order"] for row in used] == [t.order for t in chart.tranches]
    assert [row["exact"] for row in used] == [format_money(t.used) for t in chart.tranches]


def test_member_charges_show_the_largest_and_the_rest_as_one_exact_bar() -> None:
    view = _run("nasdaq-2018")
    result = view.result.events[0]
    table = charge_table(result.members, view.currency, "Survivors", None)
    chart = member_charges_chart(table, top=5)
    assert [bar.member for bar in chart.members] == [c.member for c in table.rows[:5]]
    assert chart.rest is not None
    assert chart.rest.member == f"{len(table.rows) - 5} other members"
    assert chart.rest.total == _total([c.total for c in table.rows[5:]])
    everyone = [bar.total for bar in chart.members] + [chart.rest.total]
    assert _total(everyone) == _total([c.total for c in result.members])


def test_member_charges_count_the_members_a_table_already_left_out() -> None:
    view = _run("nasdaq-2018", top=3)
    survivors = view.events[0].survivors
    assert survivors is not None
    assert survivors.more is not None
    chart = member_charges_chart(survivors, top=10)
    assert len(chart.members) == 3
    assert chart.rest is not None
    assert chart.rest.member == f"{survivors.more.count} other members"
    assert chart.rest.total == survivors.more.total


def test_liability_per_event_is_what_the_survivors_bore_by_layer() -> None:
    view = _run("eurex-style")
    chart = liability_chart(view)
    assert isinstance(chart, LiabilityChart)
    assert [bar.member for bar in chart.events] == ["Event 1", "Event 2", "Event 3"]
    for bar, event in zip(chart.events, view.result.events, strict=True):
        assert bar.assessment == _total(
            [Money.zero(view.currency), *(c.assessment for c in event.members)]
        )
        assert bar.total == _total([Money.zero(view.currency), *(c.total for c in event.members)])
    summary = summarise(view.result)
    assert _total([bar.default_fund for bar in chart.events]) == summary.member_fund_used
    assert _total([bar.assessment for bar in chart.events]) == summary.assessments
    assert _total([bar.vm_haircut for bar in chart.events]) == summary.vm_haircut


def test_a_run_has_a_waterfall_per_event_and_charges_where_survivors_bore_a_loss() -> None:
    view = _run("eurex-style")
    charts = run_charts(view)
    assert len(charts.events) == len(view.events) == 3
    assert charts.members is not None  # several events: the members over all of them
    kinds = [type(chart) for chart in charts.all()]
    assert kinds.count(WaterfallChart) == 3
    assert kinds.count(MemberChargesChart) == 4


def test_margin_by_member_is_the_margin_view_largest_first() -> None:
    view = _end_of_day()
    chart = margin_chart(view.margin, top=10)
    assert list(chart.members) == [(m.id, m.initial_margin) for m in view.margin.members[:10]]
    assert chart.rest is not None
    assert chart.rest[1] == _total([m.initial_margin for m in view.margin.members[10:]])


def test_contributions_add_up_to_the_fund_exactly() -> None:
    view = _end_of_day()
    chart = contributions_chart(view.fund, top=10)
    amounts = [amount for _, amount in chart.members]
    assert amounts == sorted(amounts, key=lambda m: -m.minor_units)
    assert chart.rest is not None
    assert _total([*amounts, chart.rest[1]]) == view.fund.fund
    assert format_money(view.fund.fund) in chart.subtitle


def test_an_end_of_day_charts_margin_contributions_and_the_worst_default() -> None:
    view = _end_of_day()
    charts = end_of_day_charts(view)
    assert len(charts.all()) == 2 + len(run_charts(view.worst_run).all())


def test_a_chart_draws_as_svg_offline_with_ids_of_its_own() -> None:
    chart = waterfall_chart(_run("beyond-the-waterfall").events[0])
    first = chart_svg(chart, "one")
    second = chart_svg(chart, "two")
    assert first.startswith("<svg")
    ids = re.findall(r'\bid="([^"]+)"', first + second)
    assert len(ids) == len(set(ids))
    assert all(i.startswith(("one-", "two-")) for i in ids)
    assert "http://" not in first.replace('"http://www.w3.org/', "")


def test_member_names_are_escaped_in_the_svg(tmp_path: Path) -> None:
    text = (EXAMPLES / "beyond-the-waterfall" / "case.toml").read_text(encoding="utf-8")
    path = tmp_path / "case.toml"
    path.write_text(text.replace('id = "A"', 'id = "<b>A&B</b>"'), encoding="utf-8")
    view = run_view(run_case(load_case(path)), None)
    survivors = view.events[0].survivors
    assert survivors is not None
    svg = chart_svg(member_charges_chart(survivors))
    assert "<b>" not in svg
    assert "&lt;b&gt;A&amp;B&lt;/b&gt;" in svg


def test_the_chart_javascript_is_one_script_that_sets_vega_embed() -> None:
    from ccpwaterfall.reports.charts import chart_javascript

    script = chart_javascript()
    assert "window.vegaEmbed = " in script or "window.vegaEmbed=" in script
    # A classic script with nothing to import: a page serves it whole, with no network.
    assert re.findall(r"^\s*(?:import|export)\s", script, re.MULTILINE) == []
    assert "cdn.jsdelivr" not in script


def test_the_bar_of_the_others_is_marked_and_faded() -> None:
    from ccpwaterfall.reports.charts import OTHERS

    view = _run("nasdaq-2018")
    survivors = view.events[0].survivors
    assert survivors is not None
    chart = member_charges_chart(survivors, top=5)
    assert chart.rest is not None
    spec = chart_spec(chart)
    others = {row["bar"] for row in _data(spec) if row["kind"] == OTHERS}
    assert others == {chart.rest.member}
    assert OTHERS in spec["encoding"]["opacity"]["condition"]["test"]
