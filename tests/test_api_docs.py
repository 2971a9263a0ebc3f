"""docs/api.md: its examples run, and importing the package loads no array library."""

from __future__ import annotations

import doctest
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_api_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    failures, tried = doctest.testfile(
        str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS
    )
    assert tried > 10
    assert failures == 0


def test_import_and_a_waterfall_load_no_array_library() -> None:
    script = (
        "import sys, ccpwaterfall as ccp\n"
        "ccp.run_case(ccp.load_case('examples/nasdaq-2018/case.toml'))\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout
    assert out.strip() == "[]"


def test_unknown_name_is_an_attribute_error() -> None:
    import ccpwaterfall

    with pytest.raises(AttributeError, match="no attribute 'load_cases'"):
        _ = ccpwaterfall.load_cases
    assert "run_case" in dir(ccpwaterfall)


def test_python_dash_m_runs_the_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ccpwaterfall", "check", "examples/nasdaq-2018/case.toml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "valid" in out.stdout


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["check", "examples/nasdaq-2018/case.toml"],
        ["run", "examples/nasdaq-2018/case.toml", "--json"],
    ],
)
def test_commands_on_plain_cases_load_no_array_library(args: list[str]) -> None:
    script = (
        "import contextlib, io, sys\n"
        "from ccpwaterfall.cli.main import run_cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = run_cli({args!r})\n"
        "print(status, sorted(m for m in ('numpy', 'scipy', 'pandas') if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout
    assert out.strip() == "0 []"
