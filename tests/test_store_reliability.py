"""The store under crashes, concurrent writers and tampering, on SQLite and on PostgreSQL.

- Crash safety: a writer killed with SIGKILL at a random point of a save (a run
  with its journal, or a batch of drill events) leaves the database with all of
  that save or none of it; every chain verifies and the events read back are
  exactly those written, in order. The writer flags each save while it is
  under way, which shows that most kills land inside one; on SQLite the
  rollback journal left behind shows that many land inside a write transaction.
- Concurrency: 20 processes saving at once, and 50 bidders appending to one
  drill's event stream: nothing lost, nothing duplicated, chains intact.
- Tampering: changing any single byte of any record of a saved run is found by
  verify, which names that record.

Writers are forked from the test process (no interpreter start-up), so each
trial costs milliseconds; each opens its own connections.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from case_samples import MINIMAL_CASE, write_case
from ccpwaterfall.app.store import run_documents
from ccpwaterfall.io import load_case
from ccpwaterfall.store import Document, SequenceTakenError, open_store
from ccpwaterfall.waterfall import run_case
from store_backends import store_url

__all__ = ["store_url"]  # the fixture, for pytest

CRASH_TRIALS = 50  # per backend, half of them during a drill's event append
JOURNAL_ENTRIES = 150  # a run large enough that a kill often lands inside its save
EVENT_BATCH = 8
SAVERS = 20
BIDDERS = 50

_FORK = multiprocessing.get_context("fork")


def _forked(target: Callable[..., None], *args: object) -> multiprocessing.process.BaseProcess:
    process = _FORK.Process(target=target, args=args, daemon=True)
    process.start()
    return process


def _run(label: str, n_entries: int = JOURNAL_ENTRIES) -> list[Document]:
    return [
        Document("case", {"file": "case.toml", "text": f"name = '{label}'\n"}),
        Document("result", {"case": label, "loss": "165200000.00"}),
        *(
            Document("journal_entry", {"seq": i, "amount": f"{i}.10", "pad": "x" * 200})
            for i in range(n_entries)
        ),
    ]


def _event(sequence: int, batch: int, member: str = "CM01") -> dict[str, object]:
    """The event at ``sequence``: a function of its position, so a replay can be checked."""
    return {
        "sequence": sequence,
        "kind": "bid",
        "at": "2026-12-01T08:00:00+00:00",
        "payload": {
            "batch": batch,
            "member": member,
            "lot": f"L{sequence % 3}",
            "price": {"amount": f"{sequence}.25", "currency": "EUR"},
        },
    }


def _keep_saving_runs(url: str, trial: int, saving: Any) -> None:
    store = open_store(url)
    for n in range(1_000):
        saving.value = 1  # from here until the save returns, a kill lands inside it
        store.save_run(f"trial {trial} run {n}", _run(f"{trial}.{n}"))
        saving.value = 0


def _keep_appending_events(url: str, drill_id: int, saving: Any) -> None:
    store = open_store(url)
    for _ in range(1_000):
        start = len(store.events(drill_id))
        batch = start // EVENT_BATCH
        saving.value = 1
        store.append_events(drill_id, [_event(start + i, batch) for i in range(EVENT_BATCH)])
        saving.value = 0


def _sqlite_journal(url: str) -> Path | None:
    """The rollback journal SQLite keeps while a write transaction is open (None: PostgreSQL)."""
    prefix = "sqlite:///"
    return Path(url.removeprefix(prefix) + "-journal") if url.startswith(prefix) else None


def _kill_at_random(process: multiprocessing.process.BaseProcess, rng: random.Random) -> None:
    time.sleep(rng.uniform(0.01, 0.12))
    assert process.pid is not None
    os.kill(process.pid, signal.SIGKILL)
    process.join()


def test_a_save_killed_at_random_points_leaves_all_of_it_or_none(store_url: str) -> None:
    rng = random.Random(20261201)
    store = open_store(store_url)  # the schema exists before the first writer starts
    drill = store.create_drill("Crash drill", {"plan": "synthetic"})
    store.close()
    checked: set[int] = set()
    journal = _sqlite_journal(store_url)
    inside_save = 0  # kills that landed while a save or an append was under way
    inside_transaction = 0  # SQLite: kills that left a hot journal (a write transaction open)
    saving = _FORK.Value("i", 0)
    for trial in range(CRASH_TRIALS):
        writer = _keep_saving_runs if trial % 2 == 0 else _keep_appending_events
        argument = trial if trial % 2 == 0 else drill.id
        saving.value = 0
        _kill_at_random(_forked(writer, store_url, argument, saving), rng)
        inside_save += saving.value
        if journal is not None and journal.exists() and journal.stat().st_size > 0:
            inside_transaction += 1
        store = open_store(store_url)
        verification = store.verify()
        assert verification.intact, f"trial {trial}: {verification.first_bad}"
        for saved in store.history():
            if saved.kind != "run" or saved.id in checked:
                continue
            records = store.records_of(saved.id)
            assert len(records) == JOURNAL_ENTRIES + 2
            trial_run = saved.label.removeprefix("trial ").replace(" run ", ".")
            assert records[1].value()["case"] == trial_run
            checked.add(saved.id)
        events = store.events(drill.id)
        assert len(events) % EVENT_BATCH == 0, f"trial {trial}: a batch was cut"
        assert events == [_event(i, i // EVENT_BATCH) for i in range(len(events))]
        store.close()
    assert checked  # runs were saved whole between the kills
    assert inside_save >= CRASH_TRIALS // 2, f"only {inside_save} kills landed inside a save"
    if journal is not None:
        assert inside_transaction >= CRASH_TRIALS // 5, (
            f"only {inside_transaction} in a transaction"
        )


def _save_run_and_snapshot(url: str, worker: int, start: multiprocessing.synchronize.Event) -> None:
    start.wait()
    store = open_store(url)
    store.save_run(f"worker {worker}", _run(str(worker), 20))
    store.save_end_of_day("Demo", f"2026-12-{worker + 1:02d}", Document("snapshot", {"w": worker}))


def _bid(url: str, drill_id: int, bidder: int, start: multiprocessing.synchronize.Event) -> None:
    store = open_store(url)
    rng = random.Random(bidder)
    start.wait()
    while True:
        sequence = len(store.events(drill_id))
        try:
            store.append_events(drill_id, [_event(sequence, 0, f"B{bidder:02d}")])
            return
        except SequenceTakenError:
            time.sleep(rng.uniform(0, 0.01))  # another bid came first: read and try again


def _all_at_once(processes: list[multiprocessing.process.BaseProcess], start: object) -> None:
    start.set()  # type: ignore[attr-defined]
    for process in processes:
        process.join(timeout=120)
        assert process.exitcode == 0


def test_twenty_processes_saving_at_once_lose_and_duplicate_nothing(store_url: str) -> None:
    # The database is empty: the writers also race to create the schema on first use.
    start = _FORK.Event()
    _all_at_once(
        [_forked(_save_run_and_snapshot, store_url, w, start) for w in range(SAVERS)], start
    )
    store = open_store(store_url)
    saves = store.history()
    runs = sorted(s.label for s in saves if s.kind == "run")
    assert runs == sorted(f"worker {w}" for w in range(SAVERS))
    snapshots = [s for s in saves if s.kind == "eod"]
    assert sorted(s.first_sequence for s in snapshots) == list(range(SAVERS))
    assert sorted(s.business_date or "" for s in snapshots) == [
        f"2026-12-{w + 1:02d}" for w in range(SAVERS)
    ]
    verification = store.verify()
    assert verification.intact
    assert verification.records == SAVERS * 22 + SAVERS
    store.close()


def test_fifty_bidders_on_one_drill_each_bid_once(store_url: str) -> None:
    store = open_store(store_url)
    drill = store.create_drill("Auction", {"lots": ["L0", "L1", "L2"]})
    store.close()
    start = _FORK.Event()
    _all_at_once([_forked(_bid, store_url, drill.id, b, start) for b in range(BIDDERS)], start)
    store = open_store(store_url)
    events = store.events(drill.id)
    assert [e["sequence"] for e in events] == list(range(BIDDERS))
    bidders = sorted(e["payload"]["member"] for e in events)  # type: ignore[index]
    assert bidders == [f"B{b:02d}" for b in range(BIDDERS)]
    assert store.verify().intact
    store.close()


def test_changing_any_byte_of_a_saved_run_is_found(store_url: str, tmp_path: Path) -> None:
    path = write_case(tmp_path, MINIMAL_CASE)
    store = open_store(store_url)
    saved = store.save_run("Minimal", run_documents(path, run_case(load_case(path))))
    records = store.records_of(saved.id)
    assert len(records) >= 3
    tried = 0
    with store.engine.connect() as conn, conn.begin():
        for record in records:
            for index in range(len(record.content)):
                changed = bytearray(record.content)
                changed[index] = (changed[index] + 1) % 256
                conn.execute(
                    text("UPDATE records SET content = :c WHERE id = :i"),
                    {"c": bytes(changed), "i": record.id},
                )
                bad = store.verify(saved.id, connection=conn).first_bad
                assert bad is not None, f"byte {index} of record {record.sequence}"
                assert bad.record_id == record.id
                tried += 1
            conn.execute(
                text("UPDATE records SET content = :c WHERE id = :i"),
                {"c": record.content, "i": record.id},
            )
        assert store.verify(saved.id, connection=conn).intact
    assert tried == sum(len(r.content) for r in records)
    store.close()
