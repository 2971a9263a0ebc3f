"""Reports: pure formatting of results into rich renderables, strings and JSON-ready data.

No file is read or written here; the command line prints what these return.
"""

from ccpwaterfall.reports.compare_view import compare_to_json, render_compare
from ccpwaterfall.reports.explain_view import render_entries, render_explain, render_tranche_rules
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
from ccpwaterfall.reports.run_view import members_table, render_event, render_run, uncovered_panel

__all__ = [
    "compact_amount",
    "compare_to_json",
    "describe_cooling_off",
    "format_amount",
    "format_date",
    "format_money",
    "format_share",
    "liability_to_json",
    "members_table",
    "render_compare",
    "render_entries",
    "render_event",
    "render_explain",
    "render_liability",
    "render_run",
    "render_tranche_rules",
    "uncovered_panel",
    "usage_bar",
]
