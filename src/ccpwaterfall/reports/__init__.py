"""Reports: pure formatting of results into rich renderables, strings and JSON-ready data.

No file is read or written here; the command line prints what these return.
"""

from ccpwaterfall.reports.check_view import check_to_json
from ccpwaterfall.reports.compare_view import compare_to_json, render_compare
from ccpwaterfall.reports.explain_view import (
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
from ccpwaterfall.reports.liability_view import (
    describe_cooling_off,
    liability_to_json,
    render_liability,
)
from ccpwaterfall.reports.risk_views import (
    capital_to_json,
    drills_to_json,
    end_of_day_to_json,
    fund_to_json,
    margin_to_json,
    render_capital,
    render_drills,
    render_end_of_day,
    render_fund,
    render_margin,
    render_stress,
    stress_to_json,
)
from ccpwaterfall.reports.run_view import members_table, render_event, render_run, uncovered_panel

__all__ = [
    "capital_to_json",
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
    "stress_to_json",
    "uncovered_panel",
    "usage_bar",
]
