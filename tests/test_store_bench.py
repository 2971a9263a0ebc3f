"""The store benchmark's code path runs end to end on its quick shape (speed is not tested)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_store_benchmark_reports_its_three_measures(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_store", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["quick"] is True
    assert report["save"]["records"] > 2  # the case, the result and the journal entries
    assert math.isfinite(report["save"]["ratio"])
    assert report["save"]["ratio"] > 0
    assert report["verify"]["records"] == 10_000
    assert report["verify"]["output"].startswith("intact: 10,000 records in 10 chains")
    assert 0 < report["diff"]["seconds"] < 60
