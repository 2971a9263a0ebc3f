"""``ccp report``: a case or an end of day as one self-contained HTML or PDF file.

The report of every example is written through the command, parsed, and held
to the JSON the other commands give: every member's charge (and, for the demo
CCP's end of day, every initial margin and contribution) is in a table, as the
decimal string of the JSON, with one SVG per chart and nothing to fetch. Then the
PDF's pages, escaping of HTML in names, and the safe-write rules: no overwrite
without ``--force``, never an input, nothing partly written, a clear refusal when
WeasyPrint's libraries are missing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from case_samples import EXAMPLES, ROOT
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.io import load_case
from ccpwaterfall.reports.charts import end_of_day_charts, run_charts
from ccpwaterfall.reports.formatting import format_amount, format_money
from ccpwaterfall.reports.run_view import run_to_json, run_view
from ccpwaterfall.waterfall import run_case

WATERFALL_EXAMPLES = sorted(
    p.parent.name for p in EXAMPLES.glob("*/case.toml") if p.parent.name != "demo-ccp"
)
DEMO = EXAMPLES / "demo-ccp" / "case.toml"
NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"
BEYOND = EXAMPLES / "beyond-the-waterfall" / "case.toml"
VOID = {"meta", "br", "img", "hr", "link", "input", "col", "area", "base", "wbr", "source"}


@dataclass
class Page(HTMLParser):
    """What a report holds: its table rows (first cell's text, then every ``data-value``),
    its SVGs, the addresses it refers to, and whether every element closes in order."""

    rows: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    svgs: int = 0
    scripts: int = 0
    addresses: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    _open: list[str] = field(default_factory=list)
    _cells: list[str] = field(default_factory=list)
    _values: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(convert_charrefs=True)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)
        if tag not in VOID:
            self._open.append(tag)
        if tag == "tr":
            self._cells, self._values = [], []
        if tag == "td":
            self._cells.append("")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._element(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self._open or self._open[-1] != tag:
            self.errors.append(f"</{tag}> closes {self._open[-1:] or 'nothing'}")
            return
        self._open.pop()
        if tag == "tr":
            first = self._cells[0].strip() if self._cells else ""
            self.rows.append((first, tuple(self._values)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        # Only a cell's own text, not that of the spans within it.
        if self._open and self._open[-1] == "td" and self._cells:
            self._cells[-1] += data

    def _element(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        self.svgs += tag == "svg"
        self.scripts += tag == "script"
        if "data-value" in values and values["data-value"] is not None:
            self._values.append(values["data-value"])
        for name in ("src", "href", "xlink:href"):
            if values.get(name):
                self.addresses.append(str(values[name]))


def _parse(text: str) -> Page:
    page = Page()
    page.feed(text)
    page.close()
    return page


def _report(tmp_path: Path, case: Path, name: str, *args: str) -> tuple[int, str, str, Path]:
    output = tmp_path / name
    result = CliRunner().invoke(
        create_app(), ["report", str(case), "-o", str(output), *args], catch_exceptions=False
    )
    return result.exit_code, result.stdout, result.stderr, output


def _self_contained(page: Page) -> None:
    assert page.errors == []
    assert page.scripts == 0
    # The only addresses are fragments within the page (an SVG's own clip paths).
    assert all(address.startswith("#") for address in page.addresses)


@pytest.fixture(scope="module")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The demo CCP's end-of-day report (its HTML and what the command said), written once."""
    code, out, err, path = _report(tmp_path_factory.mktemp("demo"), DEMO, "demo.html")
    assert code == 0, err
    return path.read_text(encoding="utf-8"), out


@pytest.mark.parametrize("example", WATERFALL_EXAMPLES)
def test_the_report_of_each_example_shows_every_member_charge_and_a_chart_each(
    tmp_path: Path, example: str
) -> None:
    case = EXAMPLES / example / "case.toml"
    code, out, err, path = _report(tmp_path, case, "report.html")
    assert code == 0, err
    assert f"to {path}" in out
    page = _parse(path.read_text(encoding="utf-8"))
    _self_contained(page)
    document = json.loads((EXAMPLES / example / "expected.json").read_text(encoding="utf-8"))
    for event in document["events"]:
        for member, charge in event["members"].items():
            layers = (charge["default_fund"], charge["assessment"], charge["vm_haircut"])
            assert (member, (*layers, charge["total"])) in page.rows
        for tranche in event["tranches"]:
            figures = (tranche["available"], tranche["used"])
            assert any(
                first == tranche["name"] and values[:2] == figures for first, values in page.rows
            )
    view = run_view(run_case(load_case(case)), None)
    assert page.svgs == len(run_charts(view).all())
    assert "".join(page.text).count(view.case) >= 1


def test_an_uncovered_loss_is_in_plain_sight(tmp_path: Path) -> None:
    code, _, err, path = _report(tmp_path, BEYOND, "report.html")
    assert code == 0, err
    text = " ".join(_parse(path.read_text(encoding="utf-8")).text)
    document = json.loads((BEYOND.parent / "expected.json").read_text(encoding="utf-8"))
    view = run_view(run_case(load_case(BEYOND)), None)
    assert view.uncovered is not None
    assert format(view.uncovered.amount, "f") == document["events"][0]["uncovered"]
    assert f"UNCOVERED LOSS: {format_money(view.uncovered)} beyond the waterfall" in text


def test_the_end_of_day_report_shows_every_margin_contribution_and_the_worst_default(
    demo_report: tuple[str, str],
) -> None:
    from ccpwaterfall.app import risk
    from ccpwaterfall.reports.eod_view import end_of_day_to_json, eod_view

    html, out = demo_report
    page = _parse(html)
    _self_contained(page)
    outcome = risk.end_of_day(DEMO)
    assert outcome.value is not None
    view = eod_view(outcome.value, None, None)
    document = end_of_day_to_json(view)
    margin = document["margin"]
    fund = document["fund"]
    assert isinstance(margin, dict)
    assert isinstance(fund, dict)
    for member in margin["members"]:
        assert (member["id"], (member["initial_margin"],)) in page.rows
    for member, contribution in fund["contributions"].items():
        assert (member, (contribution,)) in page.rows
    assert ("Total = fund", (fund["fund"],)) in page.rows
    worst = run_to_json(view.worst_run)
    for event in worst["events"]:  # type: ignore[attr-defined]
        for member, charge in event["members"].items():
            values = (charge["default_fund"], charge["assessment"], charge["vm_haircut"])
            assert (member, (*values, charge["total"])) in page.rows
    assert page.svgs == len(end_of_day_charts(view).all())
    assert "5 charts" in out


def test_the_pdf_report_is_a_pdf_with_the_tables_text(tmp_path: Path) -> None:
    code, _, err, path = _report(tmp_path, BEYOND, "report.pdf")
    assert code == 0, err
    data = path.read_bytes()
    assert data.startswith(b"%PDF-")
    reader = PdfReader(path)
    assert len(reader.pages) >= 1
    text = "\n".join(page.extract_text() for page in reader.pages)
    view = run_view(run_case(load_case(BEYOND)), None)
    assert view.case in text
    assert "Waterfall (GBP)" in text
    assert view.uncovered is not None
    assert f"UNCOVERED LOSS: {format_money(view.uncovered)}" in text
    for event in view.events:
        for tranche in event.tranches:
            assert format_amount(tranche.used) in text
        assert event.survivors is not None
        for charge in event.survivors.rows:
            assert format_amount(charge.total) in text


def test_the_end_of_day_pdf_has_its_sections(tmp_path: Path) -> None:
    code, _, err, path = _report(tmp_path, DEMO, "eod.pdf")
    assert code == 0, err
    text = "\n".join(page.extract_text() for page in PdfReader(path).pages)
    for heading in ("Initial margin", "Stress tests", "Default fund", "Default drills"):
        assert heading in text
    assert "through the waterfall" in text


def test_html_in_names_is_escaped(tmp_path: Path) -> None:
    text = BEYOND.read_text(encoding="utf-8")
    text = text.replace('id = "A"', 'id = "<script>alert(1)</script>"')
    text = text.replace(
        'name = "Beyond the waterfall: every layer exhausted"', 'name = "<b>Bold</b> & Co"'
    )
    text = text.replace('name = "Hypothetical CCP"', 'name = "<img src=x onerror=alert(2)>"')
    case = tmp_path / "case.toml"
    case.write_text(text, encoding="utf-8")
    code, _, err, path = _report(tmp_path, case, "report.html")
    assert code == 0, err
    html = path.read_text(encoding="utf-8")
    page = _parse(html)
    _self_contained(page)
    assert "<b>Bold" not in html
    assert "<img" not in html
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The member's row still reads as its name, with its charge.
    assert any(first == "<script>alert(1)</script>" for first, _ in page.rows)


def test_an_existing_file_is_kept_without_force(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("mine\n", encoding="utf-8")
    code, out, err, _ = _report(tmp_path, NASDAQ, "report.html")
    assert code == 2
    assert out == ""
    assert f"{target}: already exists: use --force to replace it" in err
    assert target.read_text(encoding="utf-8") == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_force_replaces_an_existing_report(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    target.write_text("mine\n", encoding="utf-8")
    code, _, err, _ = _report(tmp_path, NASDAQ, "report.html", "--force")
    assert code == 0, err
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]


def test_the_case_itself_is_never_written_over(tmp_path: Path) -> None:
    case = tmp_path / "case.html"
    original = NASDAQ.read_text(encoding="utf-8")
    case.write_text(original, encoding="utf-8")
    code, _, err, _ = _report(tmp_path, case, "case.html", "--force")
    assert code == 2
    assert "is an input of this command" in err
    assert case.read_text(encoding="utf-8") == original


def test_a_data_file_of_a_risk_case_is_never_written_over(tmp_path: Path) -> None:
    # A link to the demo's members.csv, named as the report: refused before anything runs.
    target = EXAMPLES / "demo-ccp" / "members.csv"
    before = target.read_bytes()
    (tmp_path / "members.html").symlink_to(target)
    code, _, err, _ = _report(tmp_path, DEMO, "members.html", "--force")
    assert code == 2
    assert "is an input of this command" in err
    assert target.read_bytes() == before
    assert (tmp_path / "members.html").is_symlink()


def test_an_unknown_format_and_an_existing_file_are_refused_together(tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    target.write_text("mine\n", encoding="utf-8")
    code, _, err, _ = _report(tmp_path, NASDAQ, "report.txt")
    assert code == 2
    assert "--output: cannot tell the format from '.txt'" in err
    assert "already exists" in err
    assert "2 problems in" in err
    assert target.read_text(encoding="utf-8") == "mine\n"


def test_a_bad_case_writes_nothing(tmp_path: Path) -> None:
    case = tmp_path / "bad.toml"
    case.write_text('format = "ccp-case/1"\nname = "Bad"\n', encoding="utf-8")
    code, _, err, _ = _report(tmp_path, case, "report.html")
    assert code == 2
    assert "bad.toml" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.toml"]


def test_a_pdf_without_weasyprint_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A module set to None in sys.modules fails to import, as one not installed does.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    code, _, err, _ = _report(tmp_path, NASDAQ, "report.pdf")
    assert code == 2
    assert "--output: a PDF needs WeasyPrint and its system libraries (Pango" in err
    assert "apt-get install libpango-1.0-0" in err
    assert list(tmp_path.iterdir()) == []


def test_json_says_what_was_written(tmp_path: Path) -> None:
    code, out, err, path = _report(tmp_path, NASDAQ, "report.html", "--json")
    assert code == 0, err
    written = json.loads(out)
    assert written == {
        "written": str(path),
        "format": "html",
        "source": str(NASDAQ),
        "kind": "case",
        "case": load_case(NASDAQ).name,
        "bytes": path.stat().st_size,
        "charts": len(run_charts(run_view(run_case(load_case(NASDAQ)), None)).all()),
    }


def test_plain_commands_load_none_of_the_report_libraries() -> None:
    script = (
        "import sys\n"
        "from ccpwaterfall.cli.main import run_cli\n"
        "run_cli(['--help'])\n"
        "run_cli(['run', 'examples/nasdaq-2018/case.toml', '--json'])\n"
        "heavy = ('jinja2', 'altair', 'vl_convert', 'weasyprint')\n"
        "print(sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    assert done.stderr.strip().splitlines()[-1] == "[]"


class _Embeds(HTMLParser):
    """The Vega-Lite specifications that ``embed_drawer`` left in a page, in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.specs: list[object] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        spec = dict(attrs).get("data-vega-lite")
        if spec is not None:
            self.specs.append(json.loads(spec))


def test_the_same_templates_draw_charts_in_the_browser_with_the_embed_drawer(
    tmp_path: Path,
) -> None:
    from ccpwaterfall.reports.charts import chart_spec
    from ccpwaterfall.reports.html import EMBED_SCRIPT, embed_drawer, run_report_html

    text = BEYOND.read_text(encoding="utf-8").replace('id = "A"', 'id = "</div><script>x"')
    case = tmp_path / "case.toml"
    case.write_text(text, encoding="utf-8")
    view = run_view(run_case(load_case(case)), None)
    charts = run_charts(view)
    html = run_report_html(view, charts, embed_drawer())
    page = _parse(html)
    assert page.errors == []
    assert page.svgs == 0
    assert page.scripts == 0
    embeds = _Embeds()
    embeds.feed(html)
    # Each chart's specification, whole, even with HTML in a member's id.
    assert embeds.specs == [chart_spec(chart) for chart in charts.all()]
    assert "data-vega-lite" in EMBED_SCRIPT
