"""The service's load benchmark runs end to end on a few bidders (speed is not tested here):
every bid accepted is stored once, none lost, none duplicated."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_quick_load_benchmark_loses_and_duplicates_no_bid(tmp_path: Path) -> None:
    figures = tmp_path / "service.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_service", "--quick", "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(figures.read_text(encoding="utf-8"))
    sent = report["bidders"] * report["lots"]
    assert report["bids_sent"] == report["bids_accepted"] == report["bids_stored"] == sent
    assert report["lost"] == 0
    assert report["duplicated"] == 0
    assert report["sequence_gapless"] is True
    assert report["baseline_ok"] is True
    assert 0 < report["bid_seconds"]["median"] <= report["bid_seconds"]["p95"]
    assert "p95" in done.stdout
