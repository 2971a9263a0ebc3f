"""Drills people drive, stored event by event, on SQLite and on PostgreSQL: start, bid,
close, status; a stored drill replays to the same record as the batch ``ccp drill``, with
every member bidding at once, and after bidders killed with SIGKILL mid-bid."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import shutil
from pathlib import Path

from typer.testing import CliRunner

from case_samples import EXAMPLES
from ccpwaterfall.cli.main import create_app
from ccpwaterfall.io.drill_file import load_drill
from store_backends import store_url

__all__ = ["store_url"]  # the fixture, for pytest

NASDAQ_DRILL = EXAMPLES / "drill-nasdaq-2018-style" / "drill.toml"


def ccp(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(create_app(), [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def _started(store_url: str, drill: Path = NASDAQ_DRILL) -> int:
    code, out, err = ccp("drill", "start", drill, "--db", store_url, "--json")
    assert code == 0, err
    assert json.loads(out)["phase"] == "open"
    return int(err.split("Saved as drill ")[1].split(":")[0])


def test_a_driven_drill_replays_to_the_batch_drills_record(store_url: str) -> None:
    drill_id = _started(store_url)
    plan = load_drill(NASDAQ_DRILL)
    for bid in sorted(plan.bids, key=lambda b: b.at):
        code, _, err = ccp(
            "drill",
            "bid",
            str(drill_id),
            "--member",
            bid.member,
            "--lot",
            bid.lot,
            "--price",
            format(bid.price.amount, "f"),
            "--at",
            bid.at.isoformat(),
            "--db",
            store_url,
        )
        assert code == 0, err
    code, closed, err = ccp("drill", "close", str(drill_id), "--db", store_url, "--json")
    assert code == 0, err
    _, batch, _ = ccp("drill", NASDAQ_DRILL, "--json")
    assert json.loads(closed) == json.loads(batch)
    code, status, _ = ccp("drill", "status", str(drill_id), "--db", store_url, "--json")
    assert code == 0
    assert json.loads(status) == json.loads(batch)
    assert ccp("verify", str(drill_id), "--db", store_url)[0] == 0


def test_bids_are_refused_with_a_reason(store_url: str) -> None:
    drill_id = _started(store_url)
    plan = load_drill(NASDAQ_DRILL)
    first = sorted(plan.bids, key=lambda b: b.at)[0]
    at = first.at.isoformat()
    base = (
        "drill",
        "bid",
        str(drill_id),
        "--price",
        "1",
        "--at",
        at,
        "--db",
        store_url,
    )
    code, _, err = ccp(*base, "--member", plan.defaulter, "--lot", first.lot)
    assert code == 2
    assert "is the defaulter: it cannot bid" in err
    code, _, err = ccp(*base, "--member", first.member, "--lot", "NO-SUCH-LOT")
    assert code == 2
    assert "no lot 'NO-SUCH-LOT'" in err
    code, _, err = ccp(
        *base[:3],
        "--price",
        "a lot",
        "--at",
        at,
        "--db",
        store_url,
        "--member",
        first.member,
        "--lot",
        first.lot,
    )
    assert code == 2
    assert "--price: a lot: not an amount" in err
    assert ccp("drill", "close", str(drill_id), "--db", store_url)[0] == 0
    code, _, err = ccp(*base, "--member", first.member, "--lot", first.lot)
    assert code == 2
    assert "the auction is closed" in err
    code, _, err = ccp("drill", "close", str(drill_id), "--db", store_url)
    assert code == 2
    assert "already closed" in err


def test_the_batch_drill_command_still_runs_a_file() -> None:
    code, out, err = ccp("drill", NASDAQ_DRILL, "--json")
    assert code == 0, err
    assert json.loads(out)["phase"] == "closed"
    code, _, err = ccp("drill", NASDAQ_DRILL, "--bogus")
    assert code == 2
    assert "Usage: ccp drill [OPTIONS] [DRILL]" in err
    code, out, _ = ccp("drill", "--help")
    assert code == 0
    for command in ("start", "bid", "close", "status"):
        assert f"  {command} " in out
    assert "ccp drill DRILL.toml [--json]" in out


def test_a_run_is_not_a_drill(store_url: str) -> None:
    assert ccp("run", EXAMPLES / "nasdaq-2018" / "case.toml", "--save", "--db", store_url)[0] == 0
    code, _, err = ccp("drill", "status", "1", "--db", store_url)
    assert code == 2
    assert "save 1 is a run, not a drill" in err


def test_a_changed_drill_file_is_refused(store_url: str, tmp_path: Path) -> None:
    copy = tmp_path / "drill.toml"
    shutil.copy(NASDAQ_DRILL, copy)
    drill_id = _started(store_url, copy)
    copy.write_text(copy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    code, _, err = ccp("drill", "status", str(drill_id), "--db", store_url)
    assert code == 2
    assert f"changed since drill {drill_id} was started" in err


def _bid_in_process(
    url: str, drill_id: int, member: str, start: multiprocessing.synchronize.Event
) -> None:
    from ccpwaterfall.app import store as use
    from ccpwaterfall.store import open_store

    store = open_store(url)
    start.wait()
    at = dt.datetime(2018, 9, 12, 8, 30, tzinfo=dt.UTC)
    outcome = use.bid(store, drill_id, member, "nordic-german-power-spread", "-200000000", at)
    assert outcome.value is not None, outcome.problems


def test_members_bidding_at_once_are_each_recorded_once(store_url: str) -> None:
    drill_id = _started(store_url)
    plan = load_drill(NASDAQ_DRILL)
    members = [m.id for m in plan.ccp.members if m.id != plan.defaulter]
    fork = multiprocessing.get_context("fork")
    start = fork.Event()
    bidders = [
        fork.Process(target=_bid_in_process, args=(store_url, drill_id, m, start), daemon=True)
        for m in members
    ]
    for bidder in bidders:
        bidder.start()
    start.set()
    for bidder in bidders:
        bidder.join(timeout=120)
        assert bidder.exitcode == 0
    code, out, _ = ccp("drill", "status", str(drill_id), "--db", store_url, "--json")
    assert code == 0
    events = json.loads(out)["events"]
    bids = sorted(e["payload"]["member"] for e in events if e["kind"] == "bid")
    assert bids == sorted(members)
    assert [e["sequence"] for e in events] == list(range(len(events)))
    assert ccp("verify", str(drill_id), "--db", store_url)[0] == 0


def _keep_bidding(url: str, drill_id: int, members: list[str], trial: int) -> None:
    from ccpwaterfall.app import store as use
    from ccpwaterfall.store import open_store

    store = open_store(url)
    opens = dt.datetime(2018, 9, 12, 7, 0, tzinfo=dt.UTC)
    for step, member in enumerate(members):
        # Later trials bid later, so that their bids follow the ones already stored.
        at = opens + dt.timedelta(minutes=4 * trial, seconds=step)
        use.bid(store, drill_id, member, "nordic-german-power-spread", "-200000000", at)


def test_a_bidder_killed_mid_bid_leaves_a_drill_that_replays(store_url: str) -> None:
    import os
    import random
    import signal
    import time

    from ccpwaterfall.app import store as use
    from ccpwaterfall.store import open_store

    drill_id = _started(store_url)
    plan = load_drill(NASDAQ_DRILL)
    members = [m.id for m in plan.ccp.members if m.id != plan.defaulter]
    rng = random.Random(9)
    fork = multiprocessing.get_context("fork")
    for trial in range(10):
        order = rng.sample(members, len(members))
        bidder = fork.Process(
            target=_keep_bidding, args=(store_url, drill_id, order, trial), daemon=True
        )
        bidder.start()
        time.sleep(rng.uniform(0.01, 0.15))
        assert bidder.pid is not None
        os.kill(bidder.pid, signal.SIGKILL)
        bidder.join()
        store = open_store(store_url)
        stored = use.drill_status(store, drill_id)  # replays every stored event
        assert stored.value is not None, f"trial {trial}: {stored.problems}"
        assert store.verify(drill_id).intact
        bids = [e for e in stored.value.state.events if e.kind == "bid"]
        assert len({e.payload["member"] for e in bids}) == len(bids)  # once per round each
        store.close()
    assert bids  # bids were stored whole between the kills


def test_a_drill_whose_stored_events_were_changed_is_refused(store_url: str) -> None:
    from sqlalchemy import text

    from ccpwaterfall.store import open_store

    drill_id = _started(store_url)
    store = open_store(store_url)
    with store.engine.begin() as conn:
        conn.execute(
            text("UPDATE records SET content = :c WHERE save_id = :s AND sequence = 3"),
            {"c": b'{"sequence": 2, "kind": "notice"}', "s": drill_id},
        )
    store.close()
    code, _, err = ccp("drill", "status", str(drill_id), "--db", store_url)
    assert code == 2
    assert "its stored events do not replay" in err
    assert ccp("verify", str(drill_id), "--db", store_url)[0] == 3
