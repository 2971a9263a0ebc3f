"""Load: 50 concurrent bidders against ``ccp serve``'s application under uvicorn on localhost.

A generated drill (50 members bidding on 4 lots, one round) runs live in a
uvicorn process of its own, stored in a SQLite file through the same use cases
as ``ccp drill start``, ``bid`` and ``close``; 50 bidders, each logged in with its own session,
send their sealed bids all at once through the JSON API, one per lot. Reported:
each request's response time (median, p95, max), against a bare baseline in the
same run (the drill's status, a read that takes no lock and writes nothing,
asked as often by as many clients), and the drill's stored events checked
afterwards: every accepted bid stored once, none lost, none duplicated, the
event sequence without a gap.

``python -m benchmarks.bench_service [--quick] [--json FILE]``; ``--quick`` runs
5 bidders on 2 lots (the smoke test).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

LOTS = 4
BIDDERS = 50
PASSWORD = "bench-password"
RISK = "risk"
DRILL_ID = "load"  # the drill file's id in the served folder


def drill_text(bidders: int, lots: int) -> str:
    """A drill file: ``bidders`` members and a defaulter whose house account holds one
    position in each of ``lots`` products, each auctioned as its own lot in one round."""
    lines = [
        'format = "ccp-drill/1"',
        f'name = "Load drill: {bidders} bidders on {lots} lots"',
        'currency = "GBP"',
        "[ccp]",
        'name = "Benchmark CCP"',
        "[rulebook]",
        "business_days_to_replenish = 2",
    ]
    for kind in ("defaulter_margin", "defaulter_default_fund", "member_default_fund"):
        lines += ["[[rulebook.waterfall]]", f'kind = "{kind}"']
    lines.append('allocation = "auction_tiers"')
    for n in range(1, bidders + 1):
        lines += ["[[members]]", f'id = "B{n:02d}"', "default_fund = 100", "initial_margin = 1000"]
    lines += ["[[members]]", 'id = "D"', "default_fund = 10", "initial_margin = 40"]
    lines += [
        "[default]",
        'member = "D"',
        "margin_call = 60",
        "issued_at = 2024-03-04T08:00:00Z",
        "deadline = 2024-03-04T09:00:00Z",
        "grace_minutes = 60",
        "declared_at = 2024-03-04T11:00:00Z",
        "[[accounts]]",
        'id = "D-house"',
        'kind = "house"',
        "collateral = 40",
    ]
    for p in range(1, lots + 1):
        lines += ["[[products]]", f'id = "P{p}"', 'moves = ["0"]', 'margin_rate = "0.04"']
        lines += ["[[positions]]", 'account = "D-house"', f'product = "P{p}"', "value = 0"]
        lines.append("delta = 1000")
    lines += [
        "[auction]",
        'lots = "by_product"',
        "rounds = [{ opens_at = 2024-03-05T09:00:00Z, deadline = 2024-03-05T12:00:00Z, day = 1 }]",
    ]
    return "\n".join(lines) + "\n"


def serve(folder: Path, port: int, bidders: int) -> None:
    """The server process: the service over ``folder`` (its drills stored in a SQLite file
    there) with a risk user and one member user per bidder, under uvicorn."""
    import uvicorn  # noqa: PLC0415 (the server process only)

    from ccpwaterfall.app.users import MemoryUsers, add_user  # noqa: PLC0415
    from ccpwaterfall.service import ServiceConfig, create_service  # noqa: PLC0415
    from ccpwaterfall.store import open_store  # noqa: PLC0415

    users = MemoryUsers()
    add_user(users, RISK, "risk", PASSWORD)
    for n in range(1, bidders + 1):
        add_user(users, f"bidder{n:02d}", "member", PASSWORD, f"B{n:02d}")
    store = open_store(f"sqlite:///{folder / 'store.sqlite3'}")
    app = create_service(ServiceConfig(cases=folder, users=users, store=store))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _log_in(base: str, name: str) -> tuple[httpx.Client, str]:
    client = httpx.Client(base_url=base, timeout=60)
    form = client.get("/login").text
    token = form.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 303:  # a login redirects to the home page
        raise RuntimeError(f"{name} could not log in: {answer.status_code}")
    csrf: str = client.get("/api/me").json()["csrf_token"]
    return client, csrf


def _wait_up(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server process ended")
        try:
            httpx.get(f"{base}/login", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _all_at_once(
    clients: list[tuple[httpx.Client, str]],
    lots: int,
    request: Callable[[int, httpx.Client, str], int],
) -> tuple[list[float], list[int]]:
    """Every client at once (a barrier), each calling ``request`` for lots 1 to ``lots`` in
    turn; the times and statuses."""
    times: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(len(clients))

    def run(client: httpx.Client, token: str) -> None:
        barrier.wait()
        for lot in range(1, lots + 1):
            started = time.perf_counter()
            status = request(lot, client, token)
            took = time.perf_counter() - started
            with lock:
                times.append(took)
                statuses.append(status)

    threads = [threading.Thread(target=run, args=(client, token)) for client, token in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return times, statuses


def _p95(times: list[float]) -> float:
    ordered = sorted(times)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def run(bidders: int, lots: int) -> dict[str, Any]:
    """Serve the load drill, start it, send every bid at once; the figures and the checks."""
    with tempfile.TemporaryDirectory(prefix="ccp-bench-service-") as folder:
        (Path(folder) / f"{DRILL_ID}.toml").write_text(drill_text(bidders, lots))
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [
                *(sys.executable, "-m", "benchmarks.bench_service"),
                *("--serve", folder, str(port), "--bidders", str(bidders)),
            ],
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            _wait_up(base, server)
            risk, risk_token = _log_in(base, RISK)
            started = risk.post(
                "/api/drills", json={"file": DRILL_ID}, headers={"x-csrf-token": risk_token}
            )
            started.raise_for_status()
            drill = started.json()["id"]
            clients = [_log_in(base, f"bidder{n:02d}") for n in range(1, bidders + 1)]

            def status(lot: int, client: httpx.Client, token: str) -> int:
                code: int = client.get(f"/api/drills/{drill}/status").status_code
                return code

            def bid(lot: int, client: httpx.Client, token: str) -> int:
                answer = client.post(
                    f"/api/drills/{drill}/bids",
                    json={"lot": f"P{lot}", "price": f"-{100 + lot}.00"},
                    headers={"x-csrf-token": token},
                )
                code: int = answer.status_code
                return code

            _all_at_once(clients, 1, status)  # warm up: first requests load code and connect
            base_times, base_statuses = _all_at_once(clients, lots, status)
            bid_times, bid_statuses = _all_at_once(clients, lots, bid)
            record = risk.get(f"/api/drills/{drill}").json()
        finally:
            server.terminate()
            server.wait(timeout=30)
    stored = [
        (e["payload"]["member"], e["payload"]["lot"])
        for e in record["events"]
        if e["kind"] == "bid"
    ]
    sequences = [e["sequence"] for e in record["events"]]
    expected = {
        (f"B{n:02d}", f"P{lot}") for n in range(1, bidders + 1) for lot in range(1, lots + 1)
    }
    return {
        "bidders": bidders,
        "lots": lots,
        "bids_sent": len(bid_statuses),
        "bids_accepted": bid_statuses.count(201),
        "bids_stored": len(stored),
        "lost": len(expected - set(stored)),
        "duplicated": len(stored) - len(set(stored)),
        "sequence_gapless": sequences == list(range(len(sequences))),
        "baseline_ok": base_statuses.count(200) == len(base_statuses),
        "bid_seconds": {
            "median": statistics.median(bid_times),
            "p95": _p95(bid_times),
            "max": max(bid_times),
        },
        "baseline_seconds": {
            "median": statistics.median(base_times),
            "p95": _p95(base_times),
            "max": max(base_times),
        },
        "p95_ratio": _p95(bid_times) / _p95(base_times),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="5 bidders on 2 lots")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--serve", nargs=2, metavar=("FOLDER", "PORT"), help=argparse.SUPPRESS)
    parser.add_argument("--bidders", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), args.bidders or BIDDERS)
        return
    bidders, lots = (5, 2) if args.quick else (BIDDERS, LOTS)
    report = run(bidders, lots)
    ms = {key: f"{value * 1000:.1f} ms" for key, value in report["bid_seconds"].items()}
    base = {key: f"{value * 1000:.1f} ms" for key, value in report["baseline_seconds"].items()}
    print(
        f"{report['bidders']} concurrent bidders x {report['lots']} lots: "
        f"{report['bids_accepted']} of {report['bids_sent']} bids accepted, "
        f"{report['bids_stored']} stored, {report['lost']} lost, "
        f"{report['duplicated']} duplicated"
    )
    print(f"bid response time: median {ms['median']}, p95 {ms['p95']}, max {ms['max']}")
    print(
        f"baseline (drill status, same concurrency): median {base['median']}, "
        f"p95 {base['p95']}; p95 ratio {report['p95_ratio']:.2f}"
    )
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
