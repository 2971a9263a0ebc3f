"""The simulation benchmark's code path runs end to end on a small run (speed is not tested)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_simulation_benchmark_reports_its_ratio_and_memory(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_simulation", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    assert report["paths"] == 20_000
    assert report["groups"] == 100
    assert math.isfinite(report["ratio"])
    assert report["ratio"] > 0
    assert 0 < report["members_fund_reached"] < 1
    peaks = report["traced_peak_bytes"]
    assert set(peaks) == {"2000", "20000", "40000"}
    assert report["traced_passes"]["20000"] == 1  # the 1% tail fits half a chunk
    assert report["traced_passes"]["40000"] > 1
    assert all(v > 0 for v in peaks.values())
    assert "ratio" in done.stdout
