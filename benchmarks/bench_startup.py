"""Start-up: whole ``ccp`` processes against a lean script doing the same work.

Three commands on the Nasdaq 2018 example, each a fresh process, timed from
start to exit (wall time, medians of ``--runs`` after one warm-up):

- ``ccp --help``, against a lean process that imports the command-line
  framework and prints a line;
- ``ccp check CASE``, against a lean process that loads the case and prints
  its counts;
- ``ccp run CASE --json``, against a lean process that loads the case, runs
  it and prints its JSON (``dumps_result``), the same work without the
  command line.

Goal: each command within 2x of its lean baseline. The interpreter's own
start-up is in both sides of every ratio.

Run: ``python -m benchmarks.bench_startup`` (``--runs N``, ``--json FILE``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CASE = "examples/nasdaq-2018/case.toml"
GOAL_RATIO = 2.0

LEAN: dict[str, str] = {
    "help": "import typer\nprint('ccp')\n",
    "check": (
        "from ccpwaterfall.io import load_case\n"
        f"case = load_case({CASE!r})\n"
        "print(len(case.members), len(case.events))\n"
    ),
    "run --json": (
        "from ccpwaterfall.io import dumps_result, load_case\n"
        "from ccpwaterfall.waterfall import run_case\n"
        f"print(dumps_result(run_case(load_case({CASE!r}))))\n"
    ),
}
COMMANDS: dict[str, list[str]] = {
    "help": ["--help"],
    "check": ["check", CASE],
    "run --json": ["run", CASE, "--json"],
}


def _seconds(argv: Sequence[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=_env())
    return time.perf_counter() - start


def _env() -> dict[str, str]:
    # Both sides import the package from this checkout.
    return {**os.environ, "PYTHONPATH": str(ROOT / "src")}


def measure(runs: int) -> list[dict[str, Any]]:
    """Median wall time of each command and its lean baseline, and their ratio."""
    rows = []
    for name, args in COMMANDS.items():
        command = [sys.executable, "-m", "ccpwaterfall", *args]
        lean = [sys.executable, "-c", LEAN[name]]
        _seconds(command)
        _seconds(lean)
        ours, bare = [], []
        for _ in range(runs):
            ours.append(_seconds(command))
            bare.append(_seconds(lean))
        ratios = [a / b for a, b in zip(ours, bare, strict=True)]
        rows.append(
            {
                "command": f"ccp {name}",
                "seconds": statistics.median(ours),
                "min": min(ours),
                "max": max(ours),
                "lean_seconds": statistics.median(bare),
                "ratio": statistics.median(ratios),
                "goal": f"<= {GOAL_RATIO}x",
                "met": statistics.median(ratios) <= GOAL_RATIO,
            }
        )
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    """Run the benchmark from the command line (unknown options are ignored)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_startup")
    parser.add_argument("--runs", type=int, default=7, help="timed runs of each side")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    quick = os.environ.get("CCP_BENCH_QUICK", "") not in ("", "0")
    rows = measure(2 if quick else args.runs)
    print(f"{'command':<18} {'median s':>9} {'min-max s':>13} {'lean s':>8} {'ratio':>6}  goal")
    for row in rows:
        spread = f"{row['min']:.3f}-{row['max']:.3f}"
        verdict = "met" if row["met"] else "MISSED"
        print(
            f"{row['command']:<18} {row['seconds']:>9.3f} {spread:>13} "
            f"{row['lean_seconds']:>8.3f} {row['ratio']:>6.2f}  {row['goal']} {verdict}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
