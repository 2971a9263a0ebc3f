"""Use case: the report of a case or a risk case, written as one self-contained file.

A case gives the report of its run (``ccp run``'s tables, each event's
waterfall and member charges as charts); a risk case the report of its end of
day (``ccp eod``'s tables, margin and contributions as charts, and the worst
Cover-N default's run). The file is HTML or PDF, by its suffix; every chart is
inline SVG and the CSS inline, so it needs no network to be read or printed.

The output is checked before anything runs, as every write is (``io.files``):
never over an input of the report (the case or one of its data files), never
over an existing file without ``force``, never through a link or onto a
device; a PDF where WeasyPrint's system libraries are missing is refused too,
naming what is missing. The file is written whole or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccpwaterfall.app.cases import run_case
from ccpwaterfall.app.loaders import IO_LOADERS, Loaders
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.io import RISK_CASE_FORMAT, Issue, check_target
from ccpwaterfall.io.files import write_bytes

if TYPE_CHECKING:  # the risk steps load numpy, which a case's report never needs
    from ccpwaterfall.lifecycle.inputs import Progress

#: The option that names the output, in its problems.
OUTPUT_OPTION = "--output"
#: Output formats by the file's suffix (lower case).
FORMATS = {".html": "html", ".htm": "html", ".pdf": "pdf"}


@dataclass(frozen=True, slots=True)
class WrittenReport:
    """What was written: where, in which format, of which case and kind, its size and its
    number of charts."""

    path: Path
    format: str  # html | pdf
    source: Path
    kind: str  # case | risk-case
    case: str  # the case's name
    size: int  # bytes
    charts: int


@dataclass(frozen=True, slots=True)
class _Page:
    html: str
    case: str
    charts: int


def write_report(
    path: Path,
    output: Path,
    *,
    force: bool = False,
    loaders: Loaders = IO_LOADERS,
    progress: Progress | None = None,
    threads: int = 1,
) -> Outcome[WrittenReport]:
    """Write the report of the case or risk case at ``path`` to ``output`` (``.html`` or
    ``.pdf``); every problem with the output is found before the case runs."""
    doc, _ = loaders.document(path)
    risk_case = doc is not None and ("portfolio" in doc or doc.get("format") == RISK_CASE_FORMAT)
    inputs = _input_files(path, doc)
    refusal = _output_refusal(output, force=force, inputs=inputs)
    if refusal is not None:
        return refused(refusal)
    page = _risk_page(path, loaders, progress, threads) if risk_case else _case_page(path, loaders)
    built = page.value
    if built is None:
        return refused(*page.problems)
    kind = FORMATS[output.suffix.lower()]
    if kind == "pdf":
        from ccpwaterfall.reports.html_pdf import html_to_pdf  # noqa: PLC0415 (PDF only)

        data = html_to_pdf(built.html)
    else:
        data = built.html.encode("utf-8")
    issue = write_bytes(output, data, force=force, inputs=inputs)
    if issue is not None:
        return refused(problems_in(output, (issue,)))
    written = WrittenReport(
        path=output,
        format=kind,
        source=path,
        kind="risk-case" if risk_case else "case",
        case=built.case,
        size=len(data),
        charts=built.charts,
    )
    return done(written, page.warnings)


def _output_refusal(output: Path, *, force: bool, inputs: tuple[Path, ...]) -> Problems | None:
    """Every reason ``output`` may not be written, before anything runs."""
    issues = []
    kind = FORMATS.get(output.suffix.lower())
    if kind is None:
        suffixes = ", ".join(sorted(FORMATS))
        issues.append(
            Issue(
                str(output),
                OUTPUT_OPTION,
                f"cannot tell the format from {output.suffix or 'no suffix'!r}: "
                f"name a file ending in one of {suffixes}",
            )
        )
    refusal = check_target(output, force=force, inputs=inputs)
    if refusal is not None:
        issues.append(refusal)
    if kind == "pdf":
        from ccpwaterfall.reports.html_pdf import pdf_unavailable  # noqa: PLC0415 (PDF only)

        missing = pdf_unavailable()
        if missing is not None:
            issues.append(Issue(str(output), OUTPUT_OPTION, missing))
    return problems_in(output, issues) if issues else None


def _case_page(path: Path, loaders: Loaders) -> Outcome[_Page]:
    from ccpwaterfall.reports.charts import run_charts  # noqa: PLC0415 (reports only)
    from ccpwaterfall.reports.html import run_report_html  # noqa: PLC0415
    from ccpwaterfall.reports.run_view import run_view  # noqa: PLC0415

    outcome = run_case(path, loaders)
    if outcome.value is None:
        return refused(*outcome.problems)
    view = run_view(outcome.value, None)
    charts = run_charts(view)
    page = _Page(run_report_html(view, charts), view.case, len(charts.all()))
    return done(page, outcome.warnings)


def _risk_page(
    path: Path, loaders: Loaders, progress: Progress | None, threads: int
) -> Outcome[_Page]:
    # Imported here: the risk use cases load numpy and pandas, which a case never needs.
    from ccpwaterfall.app.risk import end_of_day  # noqa: PLC0415
    from ccpwaterfall.lifecycle.inputs import quiet  # noqa: PLC0415
    from ccpwaterfall.reports.charts import end_of_day_charts  # noqa: PLC0415
    from ccpwaterfall.reports.eod_view import eod_view  # noqa: PLC0415
    from ccpwaterfall.reports.html import end_of_day_report_html  # noqa: PLC0415

    outcome = end_of_day(path, loaders, quiet if progress is None else progress, threads=threads)
    if outcome.value is None:
        return refused(*outcome.problems)
    view = eod_view(outcome.value, None, None)
    charts = end_of_day_charts(view)
    page = _Page(end_of_day_report_html(view, charts), view.header.case, len(charts.all()))
    return done(page, outcome.warnings)


def _input_files(case: Path, doc: dict[str, object] | None) -> tuple[Path, ...]:
    """The case and every data file its ``[portfolio]`` table names (relative to the case):
    what a report may never replace."""
    portfolio = doc.get("portfolio") if doc is not None else None
    named = portfolio.values() if isinstance(portfolio, dict) else ()
    return (case, *(case.parent / name for name in named if isinstance(name, str)))
