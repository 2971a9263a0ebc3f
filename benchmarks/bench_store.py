"""The store's costs, against the goals of its design:

- saving a run of 1,000 members x 3 events with its journal (the case as given,
  the result and every journal entry, in one transaction) on SQLite, against
  the run itself (goal: at most 2x);
- ``ccp verify`` of 10^6 stored records as a fresh process (goal: under 10 s);
- ``ccp diff --date D1 --date D2`` of two saved end-of-days of the demo CCP as
  a fresh process (goal: under 1 s).

Run: ``python -m benchmarks.bench_store`` (``--quick`` or ``CCP_BENCH_QUICK=1``:
10^4 records to verify; ``--json FILE`` writes the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import insert

from benchmarks.bench_waterfall import build_case
from ccpwaterfall.app.store import run_documents, save_run
from ccpwaterfall.io import case_to_toml, load_case
from ccpwaterfall.store import open_store
from ccpwaterfall.store.canonical import GENESIS, canonical_bytes, content_hash, record_hash
from ccpwaterfall.store.schema import records, saves
from ccpwaterfall.waterfall import run_case

ROOT = Path(__file__).resolve().parents[1]
SAVE_GOAL = 2.0
VERIFY_GOAL_SECONDS = 10.0
DIFF_GOAL_SECONDS = 1.0
RECORDS = 1_000_000
QUICK_RECORDS = 10_000
RECORDS_PER_SAVE = 1_000
REPEATS = 3
SAVE_REPEATS = 15


def _median_seconds(work: object, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_save(folder: Path) -> dict[str, object]:
    """Run a 1,000 x 3 case, then save it (documents and transaction) on SQLite.

    Runs and saves alternate, ``SAVE_REPEATS`` of each, so that a busy moment of
    the machine weighs on both; the medians are compared.
    """
    path = folder / "case.toml"
    path.write_text(case_to_toml(build_case(1_000, 3)), encoding="utf-8")
    case = load_case(path)
    result = run_case(case)
    store = open_store(f"sqlite:///{folder / 'save.sqlite3'}")
    runs, saved = [], []
    for _ in range(SAVE_REPEATS):
        runs.append(_median_seconds(lambda: run_case(case), 1))
        saved.append(_median_seconds(lambda: save_run(store, path, result), 1))
    n_records = len(run_documents(path, result))
    store.close()
    run_seconds, save_seconds = statistics.median(runs), statistics.median(saved)
    ratio = save_seconds / run_seconds
    return {
        "run_seconds": run_seconds,
        "save_seconds": save_seconds,
        "records": n_records,
        "ratio": ratio,
        "goal": SAVE_GOAL,
        "met": ratio <= SAVE_GOAL,
    }


def _fill(url: str, n_records: int) -> None:
    """``n_records`` records in runs of ``RECORDS_PER_SAVE``, chained as the store chains them."""
    store = open_store(url)
    with store.engine.begin() as conn:
        for first in range(0, n_records, RECORDS_PER_SAVE):
            size = min(RECORDS_PER_SAVE, n_records - first)
            key = conn.execute(
                insert(saves).values(
                    kind="run",
                    label=f"bench {first}",
                    chain="",
                    saved_at="2026-12-01T00:00:00+00:00",
                    n_records=size,
                    first_sequence=0,
                )
            ).inserted_primary_key
            assert key is not None
            save_id = int(key[0])
            chain = f"run:{save_id}"
            conn.execute(saves.update().where(saves.c.id == save_id).values(chain=chain))
            previous = GENESIS
            rows = []
            for sequence in range(size):
                content = canonical_bytes(
                    {
                        "seq": sequence,
                        "account": f"member:M{sequence:06}:default_fund",
                        "amount": f"-{sequence}.25",
                    }
                )
                digest = content_hash(content)
                linked = record_hash(previous, digest)
                rows.append(
                    {
                        "save_id": save_id,
                        "chain": chain,
                        "sequence": sequence,
                        "kind": "journal_entry",
                        "content": content,
                        "content_hash": digest,
                        "previous_hash": previous,
                        "record_hash": linked,
                    }
                )
                previous = linked
            conn.execute(insert(records), rows)
    store.close()


def _ccp(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "ccpwaterfall", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return time.perf_counter() - start, done


def bench_verify(folder: Path, n_records: int) -> dict[str, object]:
    url = f"sqlite:///{folder / 'verify.sqlite3'}"
    _fill(url, n_records)
    seconds, done = _ccp("verify", "--db", url)
    if done.returncode != 0:
        raise RuntimeError(f"ccp verify failed: {done.stderr}")
    return {
        "records": n_records,
        "seconds": seconds,
        "goal_seconds": VERIFY_GOAL_SECONDS,
        "met": seconds < VERIFY_GOAL_SECONDS,
        "output": done.stdout.strip(),
    }


def bench_diff(folder: Path) -> dict[str, object]:
    url = f"sqlite:///{folder / 'diff.sqlite3'}"
    demo = str(ROOT / "examples" / "demo-ccp" / "case.toml")
    for day in ("2026-11-30", "2026-12-01"):
        _, done = _ccp("eod", demo, "--save", "--date", day, "--db", url, "--json")
        if done.returncode != 0:
            raise RuntimeError(f"ccp eod --save failed: {done.stderr}")
    runs = []
    for _ in range(REPEATS):
        seconds, done = _ccp("diff", "--date", "2026-11-30", "--date", "2026-12-01", "--db", url)
        if done.returncode != 0:
            raise RuntimeError(f"ccp diff failed: {done.stderr}")
        runs.append(seconds)
    seconds = statistics.median(runs)
    return {
        "seconds": seconds,
        "goal_seconds": DIFF_GOAL_SECONDS,
        "met": seconds < DIFF_GOAL_SECONDS,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Run the three measurements and print them (and write them with ``--json``)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_store")
    parser.add_argument("--quick", action="store_true", help="10^4 records to verify")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    quick = args.quick or os.environ.get("CCP_BENCH_QUICK") == "1"
    with tempfile.TemporaryDirectory(prefix="ccp-bench-store-") as temp:
        folder = Path(temp)
        save = bench_save(folder)
        print(
            f"save a run of 1,000 members x 3 events ({save['records']} records): "
            f"{save['save_seconds']:.3f} s against the run's {save['run_seconds']:.3f} s: "
            f"{save['ratio']:.2f}x (goal at most {SAVE_GOAL}x)",
            flush=True,
        )
        verify = bench_verify(folder, QUICK_RECORDS if quick else RECORDS)
        print(
            f"ccp verify of {verify['records']:,} records: {verify['seconds']:.2f} s "
            f"(goal under {VERIFY_GOAL_SECONDS:.0f} s)",
            flush=True,
        )
        diff = bench_diff(folder)
        print(
            f"ccp diff of two end-of-days of the demo CCP: {diff['seconds']:.2f} s "
            f"(goal under {DIFF_GOAL_SECONDS:.0f} s)",
            flush=True,
        )
    if args.json is not None:
        figures = {"save": save, "verify": verify, "diff": diff, "quick": quick}
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
