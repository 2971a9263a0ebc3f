"""Reports: view models of results, and their rich renderables and JSON-ready data.

Each report has one view model, a frozen dataclass built from the result by one
function (``margin_view(inputs, margin)``), holding the rows and figures already
decided; its renderer (``render_margin``) and its JSON serialiser
(``margin_to_json``) both read only that view. No file is read or written here;
the command line prints what these return.

Names are imported on first use: a command that shows a waterfall never loads
the risk views, nor numpy through them. The view builders share their names
with their modules (``run_view`` in ``reports.run_view``): import them from
there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ccpwaterfall._lazy import lazy_names

# Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    "CapitalView": "ccpwaterfall.reports.capital_view",
    "CheckView": "ccpwaterfall.reports.check_view",
    "CompareView": "ccpwaterfall.reports.compare_view",
    "EndOfDayView": "ccpwaterfall.reports.eod_view",
    "ExplainView": "ccpwaterfall.reports.explain_view",
    "FundView": "ccpwaterfall.reports.fund_view",
    "LiabilityView": "ccpwaterfall.reports.liability_view",
    "MarginView": "ccpwaterfall.reports.margin_view",
    "RunView": "ccpwaterfall.reports.run_view",
    "StressView": "ccpwaterfall.reports.stress_view",
    "capital_to_json": "ccpwaterfall.reports.capital_view",
    "check_text": "ccpwaterfall.reports.check_view",
    "check_to_json": "ccpwaterfall.reports.check_view",
    "compact_amount": "ccpwaterfall.reports.formatting",
    "compare_to_json": "ccpwaterfall.reports.compare_view",
    "describe_cooling_off": "ccpwaterfall.reports.liability_view",
    "drills_to_json": "ccpwaterfall.reports.fund_view",
    "end_of_day_to_json": "ccpwaterfall.reports.eod_view",
    "explain_to_json": "ccpwaterfall.reports.explain_view",
    "format_amount": "ccpwaterfall.reports.formatting",
    "format_date": "ccpwaterfall.reports.formatting",
    "format_money": "ccpwaterfall.reports.formatting",
    "format_share": "ccpwaterfall.reports.formatting",
    "fund_to_json": "ccpwaterfall.reports.fund_view",
    "liability_to_json": "ccpwaterfall.reports.liability_view",
    "margin_to_json": "ccpwaterfall.reports.margin_view",
    "members_table": "ccpwaterfall.reports.run_view",
    "render_capital": "ccpwaterfall.reports.capital_view",
    "render_compare": "ccpwaterfall.reports.compare_view",
    "render_drills": "ccpwaterfall.reports.fund_view",
    "render_end_of_day": "ccpwaterfall.reports.eod_view",
    "render_entries": "ccpwaterfall.reports.explain_view",
    "render_event": "ccpwaterfall.reports.run_view",
    "render_explain": "ccpwaterfall.reports.explain_view",
    "render_fund": "ccpwaterfall.reports.fund_view",
    "render_liability": "ccpwaterfall.reports.liability_view",
    "render_margin": "ccpwaterfall.reports.margin_view",
    "render_run": "ccpwaterfall.reports.run_view",
    "render_stress": "ccpwaterfall.reports.stress_view",
    "render_tranche_rules": "ccpwaterfall.reports.explain_view",
    "run_to_json": "ccpwaterfall.reports.run_view",
    "stress_to_json": "ccpwaterfall.reports.stress_view",
    "uncovered_panel": "ccpwaterfall.reports.run_view",
    "usage_bar": "ccpwaterfall.reports.formatting",
}

__all__ = [
    "CapitalView",
    "CheckView",
    "CompareView",
    "EndOfDayView",
    "ExplainView",
    "FundView",
    "LiabilityView",
    "MarginView",
    "RunView",
    "StressView",
    "capital_to_json",
    "check_text",
    "check_to_json",
    "compact_amount",
    "compare_to_json",
    "describe_cooling_off",
    "drills_to_json",
    "end_of_day_to_json",
    "explain_to_json",
    "format_amount",
    "format_date",
    "format_money",
    "format_share",
    "fund_to_json",
    "liability_to_json",
    "margin_to_json",
    "members_table",
    "render_capital",
    "render_compare",
    "render_drills",
    "render_end_of_day",
    "render_entries",
    "render_event",
    "render_explain",
    "render_fund",
    "render_liability",
    "render_margin",
    "render_run",
    "render_stress",
    "render_tranche_rules",
    "run_to_json",
    "stress_to_json",
    "uncovered_panel",
    "usage_bar",
]

if TYPE_CHECKING:
    from ccpwaterfall.reports.capital_view import (
        CapitalView,
        capital_to_json,
        render_capital,
    )
    from ccpwaterfall.reports.check_view import CheckView, check_text, check_to_json
    from ccpwaterfall.reports.compare_view import (
        CompareView,
        compare_to_json,
        render_compare,
    )
    from ccpwaterfall.reports.eod_view import (
        EndOfDayView,
        end_of_day_to_json,
        render_end_of_day,
    )
    from ccpwaterfall.reports.explain_view import (
        ExplainView,
        explain_to_json,
        render_entries,
        render_explain,
        render_tranche_rules,
    )
    from ccpwaterfall.reports.formatting import (
        compact_amount,
        format_amount,
        format_date,
        format_money,
        format_share,
        usage_bar,
    )
    from ccpwaterfall.reports.fund_view import (
        FundView,
        drills_to_json,
        fund_to_json,
        render_drills,
        render_fund,
    )
    from ccpwaterfall.reports.liability_view import (
        LiabilityView,
        describe_cooling_off,
        liability_to_json,
        render_liability,
    )
    from ccpwaterfall.reports.margin_view import (
        MarginView,
        margin_to_json,
        render_margin,
    )
    from ccpwaterfall.reports.run_view import (
        RunView,
        members_table,
        render_event,
        render_run,
        run_to_json,
        uncovered_panel,
    )
    from ccpwaterfall.reports.stress_view import (
        StressView,
        render_stress,
        stress_to_json,
    )


__getattr__, __dir__ = lazy_names(__name__, _EXPORTS, globals())
