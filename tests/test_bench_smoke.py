"""The risk benchmark's code path runs end to end on a small day (speed is not tested here)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_benchmark_reports_finite_ratios(tmp_path: Path) -> None:
    figures = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_risk", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    steps = {step["step"]: step for step in report["steps"]}
    ratios = [step["ratio"] for step in report["steps"] if step["baseline"]]
    # The pricing row, two aggregation rows and their total, two margin rows, the two
    # thread rows, the Dask row.
    assert len(ratios) == 9
    assert all(isinstance(r, float) and math.isfinite(r) and r > 0 for r in ratios)
    assert any(name.startswith("stress, Cover-2") for name in steps)
    memory = report["memory"]
    assert 0 < memory["chunked_traced_peak_bytes"] < memory["process_max_rss_bytes"]
    checks = report["checks"]
    # The chunked and Dask runs reproduce the whole-array fund and exposures.
    assert checks["fund_size"] > 0
    assert checks["chunked_fund_size_rel_diff"] < 1e-12
    assert checks["chunked_contributions_max_rel_diff"] < 1e-12
    assert checks["dask_exposures_max_abs_diff"] == 0.0
    # The pricing step agrees with its bare baseline.
    assert report["pricing"]["max_rel_diff"] <= 1e-9
    assert "aggregation, margin + stress" in done.stdout


def test_quick_large_day_runs_end_to_end(tmp_path: Path) -> None:
    figures = tmp_path / "large.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_large_day", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    # Two threads and one give the same fund and margins, bit for bit.
    assert report["identical_results"] is True
    assert report["run"]["fund_size"] > 0
    assert report["run"]["contributions_sum"] >= report["run"]["fund_size"] * (1 - 1e-12)


def test_quick_waterfall_benchmark_replays_the_engines_own_splits(tmp_path: Path) -> None:
    figures = tmp_path / "waterfall.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_waterfall", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (shape,) = json.loads(figures.read_text(encoding="utf-8"))["shapes"]
    assert (shape["members"], shape["events"]) == (1_000, 3)
    # Every split the engine made was recorded: the capped fund, assessments, haircut.
    assert shape["splits"] > 0
    assert shape["baseline_seconds"] > 0
    assert math.isfinite(shape["ratio"])
    assert shape["json_over_run"] > 0
