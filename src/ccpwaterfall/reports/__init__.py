"""Reports: view models of results, and their rich renderables and JSON-ready data.

Each report has one view model, a frozen dataclass built from the result by one
function (``margin_view(inputs, margin)``), holding the rows and figures already
decided; its renderer (``render_margin``) and its JSON serialiser
(``margin_to_json``) both read only that view. No file is read or written here;
the command line prints what these return.
"""

from ccpwaterfall.reports.capital_view import (
    CapitalView,
    capital_to_json,
    capital_view,
    render_capital,
)
from ccpwaterfall.reports.check_view import CheckView, check_text, check_to_json, check_view
from ccpwaterfall.reports.compare_view import (
    CompareView,
    compare_to_json,
    compare_view,
    render_compare,
)
from ccpwaterfall.reports.eod_view import (
    EndOfDayView,
    end_of_day_to_json,
    eod_view,
    render_end_of_day,
)
from ccpwaterfall.reports.explain_view import (
    ExplainView,
    explain_to_json,
    explain_view,
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
    fund_view,
    render_drills,
    render_fund,
)
from ccpwaterfall.reports.liability_view import (
    LiabilityView,
    describe_cooling_off,
    liability_to_json,
    liability_view,
    render_liability,
)
from ccpwaterfall.reports.margin_view import (
    MarginView,
    margin_to_json,
    margin_view,
    render_margin,
)
from ccpwaterfall.reports.run_view import (
    RunView,
    members_table,
    render_event,
    render_run,
    run_to_json,
    run_view,
    uncovered_panel,
)
from ccpwaterfall.reports.stress_view import (
    StressView,
    render_stress,
    stress_to_json,
    stress_view,
)

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
    "capital_view",
    "check_text",
    "check_to_json",
    "check_view",
    "compact_amount",
    "compare_to_json",
    "compare_view",
    "describe_cooling_off",
    "drills_to_json",
    "end_of_day_to_json",
    "eod_view",
    "explain_to_json",
    "explain_view",
    "format_amount",
    "format_date",
    "format_money",
    "format_share",
    "fund_to_json",
    "fund_view",
    "liability_to_json",
    "liability_view",
    "margin_to_json",
    "margin_view",
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
    "run_view",
    "stress_to_json",
    "stress_view",
    "uncovered_panel",
    "usage_bar",
]
