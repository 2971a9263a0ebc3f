"""Text output a person can read: input text escaped, no trailing spaces, every member on demand."""

from __future__ import annotations

import datetime as dt
import functools
import io
import json
import re
from pathlib import Path

import pytest
from rich.console import Console, RenderableType
from typer.testing import CliRunner

from case_samples import EXAMPLES
from ccpwaterfall.app import Loaders
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.cli.output import print_json
from ccpwaterfall.domain import Case, Member, Money
from ccpwaterfall.io.risk_case import load_risk_case
from ccpwaterfall.reports.compare_view import compare_view, render_compare
from ccpwaterfall.reports.explain_view import explain_view, render_explain
from ccpwaterfall.reports.layout import Printable, clean
from ccpwaterfall.reports.liability_view import liability_view, render_liability
from ccpwaterfall.reports.run_view import render_run, run_view
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.liability import member_liability
from ccpwaterfall.waterfall.summary import summarise
from waterfall_cases import (
    DEFAULTER_FUND,
    EUR,
    MARGIN,
    MEMBER_FUND,
    assessments,
    default,
    make_case,
    member,
)
from waterfall_cases import capital as capital_tranche

NASDAQ = EXAMPLES / "nasdaq-2018" / "case.toml"  # 26 members, 25 survivors bear a loss
DEMO = EXAMPLES / "demo-ccp" / "case.toml"  # 40 members
ESC = "\x1b"


def _invoke(*args: str | Path, width: int = 80) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        create_app(DEMO_LOADERS), [str(a) for a in args], env={"COLUMNS": str(width)}
    )
    return result.exit_code, result.stdout, result.stderr


# The demo case is read from its files once; every command runs on it in full.
DEMO_LOADERS = Loaders(risk_case=functools.cache(load_risk_case))


@pytest.fixture
def demo() -> Path:
    return DEMO


# --------------------------------------------------------------------------- control characters


def test_clean_shows_control_characters_as_escapes() -> None:
    assert clean("A\x1b[31mred\x07") == "A\\x1b[31mred\\x07"
    assert clean("line\nbreak\ttab\r") == "line\\x0abreak\\x09tab\\x0d"
    assert clean("csi\x9b2J del\x7f") == "csi\\x9b2J del\\x7f"
    assert clean("flip\u202eed") == "flip\\u202eed"
    assert clean("Café [bold] 株式会社") == "Café [bold] 株式会社"


def _hostile_case() -> Case:
    """Every piece of input text carries an escape sequence and rich markup."""
    evil = f"{ESC}[2J{ESC}]0;owned\x07[bold]x[/bold]"
    members = [
        member(f"D{evil}", 5, 20),
        Member(f"S{evil}", Money.of(30, EUR), Money.zero(EUR), Money.zero(EUR), f"Name {evil}"),
        member("S2", 31),
    ]
    return make_case(
        members,
        (default(f"D{evil}", 60, dt.date(2024, 5, 6)),),
        (
            MARGIN,
            DEFAULTER_FUND,
            capital_tranche(10, f"Capital {evil}"),
            MEMBER_FUND,
            assessments("1"),
        ),
        name=f"Case {evil}",
        ccp_name=f"CCP {evil}",
    )


def _printed(renderable: RenderableType, *, terminal: bool) -> str:
    """What the terminal receives: markup off, as the commands print."""
    file = io.StringIO()
    console = Console(
        file=file, width=100, markup=False, emoji=False, highlight=False, force_terminal=terminal
    )
    console.print(Printable(renderable))
    return file.getvalue()


@pytest.mark.parametrize("terminal", [False, True])
def test_no_input_text_reaches_the_terminal_raw(terminal: bool) -> None:
    case = _hostile_case()
    result = run_case(case)
    liability = member_liability(case, case.members[1].id, result)
    for renderable in (
        render_run(run_view(result)),
        render_explain(explain_view(result)),
        render_liability(liability_view(liability)),
        render_compare(compare_view([summarise(result)])),
    ):
        text = _printed(renderable, terminal=terminal)
        # Styles are the views' own: every ESC left is the start of a colour code.
        assert re.sub(r"\x1b\[[0-9;]*m", "", text).count(ESC) == 0
        assert "\x07" not in text
        assert "\\x1b[2J\\x1b]0;owned\\x07[bold]x[/bold]" in text


def test_markup_in_a_member_name_prints_literally() -> None:
    case = _hostile_case()
    text = _printed(render_run(run_view(run_case(case))), terminal=False)
    assert text.count("[bold]x[/bold]") >= 3  # case name, defaulter, capital tranche


def test_the_last_guard_escapes_what_a_view_left_raw() -> None:
    text = _printed(f"raw {ESC}[2J text", terminal=False)
    assert ESC not in text
    assert "raw \\x1b[2J text" in text


def test_json_escapes_c1_controls_and_bidi_overrides(capsys: pytest.CaptureFixture[str]) -> None:
    print_json({"name": f"a{ESC}b\x9bc\u202ed"})
    out = capsys.readouterr().out
    assert ESC not in out
    assert "\x9b" not in out
    assert "\u202e" not in out
    assert json.loads(out) == {"name": f"a{ESC}b\x9bc\u202ed"}


# --------------------------------------------------------------------------- trailing spaces


@pytest.mark.parametrize(
    "args",
    [
        ("run", NASDAQ),
        ("explain", NASDAQ),
        ("liability", NASDAQ, "--member", "CM01"),
        ("compare", NASDAQ, EXAMPLES / "krx-2013" / "case.toml"),
    ],
    ids=lambda a: str(a[0]),
)
def test_piped_output_has_no_trailing_spaces(args: tuple[str | Path, ...]) -> None:
    code, out, _ = _invoke(*args)
    assert code == 0
    assert out.endswith("\n")
    trailing = [line for line in out.split("\n") if line != line.rstrip()]
    assert trailing == []


def test_piped_risk_output_has_no_trailing_spaces(demo: Path) -> None:
    for command in ("margin", "stress", "size-fund", "capital", "eod"):
        code, out, _ = _invoke(command, demo)
        assert code == 0
        assert [line for line in out.split("\n") if line != line.rstrip()] == [], command


# --------------------------------------------------------------------------- --top and --all


def _member_rows(out: str, ids: list[str]) -> list[str]:
    return [i for i in ids if re.search(rf"^{re.escape(i)}\s", out, re.MULTILINE)]


def _nasdaq_survivors() -> list[str]:
    _, out, _ = _invoke("run", NASDAQ, "--json")
    return list(json.loads(out)["events"][0]["members"])


def test_run_shows_the_top_members_and_says_how_to_see_the_rest() -> None:
    survivors = _nasdaq_survivors()
    code, out, _ = _invoke("run", NASDAQ, "--top", "3", width=200)
    assert code == 0
    assert len(_member_rows(out, survivors)) == 3
    assert f"... and {len(survivors) - 3} more members" in out
    assert "--all" in out


def test_run_all_shows_every_member() -> None:
    survivors = _nasdaq_survivors()
    code, out, _ = _invoke("run", NASDAQ, "--all", width=200)
    assert code == 0
    assert sorted(_member_rows(out, survivors)) == sorted(survivors)
    assert "more members" not in out


def test_run_shows_twenty_members_by_default() -> None:
    survivors = _nasdaq_survivors()
    _, out, _ = _invoke("run", NASDAQ, width=200)
    assert len(_member_rows(out, survivors)) == 20
    assert f"... and {len(survivors) - 20} more members" in out


def test_top_and_all_together_are_a_usage_error() -> None:
    code, out, err = _invoke("run", NASDAQ, "--top", "3", "--all")
    assert code == 2
    assert out == ""
    assert "--all" in err


def test_margin_all_shows_every_member(demo: Path) -> None:
    _, data, _ = _invoke("margin", demo, "--json")
    ids = [m["id"] for m in json.loads(data)["members"]]
    _, out, _ = _invoke("margin", demo, "--all", width=200)
    assert sorted(_member_rows(out, ids)) == sorted(ids)
    assert "more members" not in out
    _, out, _ = _invoke("margin", demo, width=200)
    assert len(_member_rows(out, ids)) == 20
    assert "... and 20 more members" in out
    assert "--all" in out


def test_capital_all_shows_every_member(demo: Path) -> None:
    _, data, _ = _invoke("capital", demo, "--json")
    ids = list(json.loads(data)["members"])
    _, out, _ = _invoke("capital", demo, "--all", width=200)
    assert sorted(_member_rows(out, ids)) == sorted(ids)


def test_eod_top_and_all_reach_every_member_table(demo: Path) -> None:
    _, data, _ = _invoke("eod", demo, "--json")
    ids = [m["id"] for m in json.loads(data)["margin"]["members"]]
    _, default_out, _ = _invoke("eod", demo, width=200)
    assert "... and 35 more members" in default_out  # the margin summary shows 5
    _, out, _ = _invoke("eod", demo, "--all", width=200)
    assert "more members" not in out
    assert "more (--all" not in out
    for member_id in ids:
        # Each member in the margin table and in the contributions table.
        assert len(re.findall(rf"^{re.escape(member_id)}\s", out, re.MULTILINE)) >= 2
    _, out, _ = _invoke("eod", demo, "--top", "2", width=200)
    assert "... and 38 more members" in out
