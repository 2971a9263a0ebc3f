"""The live fire drill through the service: who may start, bid and close; sealed bids; the
deadline; CSRF and a member id changed in a form; concurrent bidders; the stored events
replaying to the same record."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ccpwaterfall.app.service_drills import LiveDrills
from ccpwaterfall.app.users import add_user
from ccpwaterfall.service.application import Service
from test_service_support import (
    DRILL,
    FAST,
    ROLES,
    USERS,
    Clock,
    csrf_of,
    log_in,
    make_service,
    start_drill,
)

LOT = "nordic-german-power-spread"  # the drill's one lot
ROUND_1 = 2  # hours from the auction's opening to round 1's deadline
LAST_DEADLINE = 8  # hours from the opening to round 2's deadline


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(tmp_path: Path, clock: Clock) -> FastAPI:
    return make_service(tmp_path, clock=clock)


def _service(app: FastAPI) -> Service:
    service: Service = app.state.service
    return service


def _as(app: FastAPI, name: str | None) -> tuple[TestClient, str]:
    """A client logged in as ``name``, and its session's CSRF token ("" when anonymous)."""
    client = log_in(TestClient(app), name)
    if name is None:
        return client, ""
    return client, client.get("/api/me").json()["csrf_token"]


def _events(app: FastAPI, drill_id: int) -> list[dict[str, object]]:
    return [dict(e) for e in _service(app).store.events(drill_id)]


def _bid(client: TestClient, token: str, drill_id: int, price: str, **more: str) -> int:
    answer = client.post(
        f"/api/drills/{drill_id}/bids",
        json={"lot": LOT, "price": price, **more},
        headers={"x-csrf-token": token},
    )
    status: int = answer.status_code
    return status


@pytest.mark.parametrize("name", ROLES, ids=lambda n: n or "anonymous")
def test_only_the_risk_team_starts_and_closes_a_drill(app: FastAPI, name: str | None) -> None:
    client, token = _as(app, name)
    expected = {None: 401, "risk": 201}.get(name, 403)
    started = client.post("/api/drills", json={"file": DRILL}, headers={"x-csrf-token": token})
    assert started.status_code == expected
    drill_id = start_drill(app)
    closed = client.post(f"/api/drills/{drill_id}/close", headers={"x-csrf-token": token})
    assert closed.status_code == {None: 401, "risk": 200}.get(name, 403)
    live = _service(app).drills.drill(drill_id).value
    assert live is not None
    phase = live.state.phase
    assert phase == ("closed" if name == "risk" else "open")


@pytest.mark.parametrize("name", ROLES, ids=lambda n: n or "anonymous")
def test_only_member_users_bid(app: FastAPI, name: str | None) -> None:
    drill_id = start_drill(app)
    client, token = _as(app, name)
    status = _bid(client, token, drill_id, "-1000000.00")
    role = USERS[name][0] if name is not None else None
    assert status == {None: 401, "member": 201}.get(role, 403)
    bids = [e for e in _events(app, drill_id) if e["kind"] == "bid"]
    assert len(bids) == (1 if role == "member" else 0)


def test_the_forms_start_bid_and_close_a_drill(app: FastAPI, clock: Clock) -> None:
    risk, _ = _as(app, "risk")
    token = csrf_of(risk.get("/drills").text)
    started = risk.post(
        "/drills", data={"file": DRILL, "csrf_token": token}, follow_redirects=False
    )
    assert started.status_code == 303
    drill_path = started.headers["location"]
    member, _ = _as(app, "cm01")
    page = member.get(drill_path).text
    bid = member.post(
        f"{drill_path}/bids",
        data={"lot": LOT, "price": "-2500000.00", "csrf_token": csrf_of(page)},
        follow_redirects=False,
    )
    assert bid.status_code == 303
    assert "-2500000.00" in member.get(drill_path).text
    page = risk.get(drill_path).text
    assert "Close the auction" in page
    closed = risk.post(f"{drill_path}/close", data={"csrf_token": csrf_of(page)})
    assert closed.status_code == 200
    assert "Statements" in closed.text
    assert "Your statement" in member.get(drill_path).text


def test_a_late_bid_is_refused_and_nothing_is_stored(app: FastAPI, clock: Clock) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    clock.advance(hours=LAST_DEADLINE, seconds=1)
    before = _events(app, drill_id)
    answer = member.post(
        f"/api/drills/{drill_id}/bids",
        json={"lot": LOT, "price": "-1.00"},
        headers={"x-csrf-token": token},
    )
    assert answer.status_code == 409
    assert "after the deadline" in answer.json()["detail"]
    assert _events(app, drill_id) == before
    page = member.post(
        f"/drills/{drill_id}/bids",
        data={"lot": LOT, "price": "-1.00", "csrf_token": token},
    )
    assert page.status_code == 409
    assert "Bid refused: after the deadline" in page.text
    assert _events(app, drill_id) == before


def test_a_bid_takes_the_round_of_the_drills_clock(app: FastAPI, clock: Clock) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    assert _bid(member, token, drill_id, "-1.00") == 201
    assert _bid(member, token, drill_id, "-2.00") == 409  # one bid per lot and round
    clock.advance(hours=ROUND_1 + 1)  # between the rounds
    assert _bid(member, token, drill_id, "-2.00") == 409
    clock.advance(hours=4)  # round 2
    before = len(_events(app, drill_id))
    assert _bid(member, token, drill_id, "-2.00") in {201, 409}  # the lot may have gone
    assert len(_events(app, drill_id)) >= before


def test_a_bid_needs_the_sessions_csrf_token(app: FastAPI) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    _, other = _as(app, "cm02")
    assert _bid(member, "", drill_id, "-1.00") == 403
    assert _bid(member, other, drill_id, "-1.00") == 403
    form = member.post(f"/drills/{drill_id}/bids", data={"lot": LOT, "price": "-1.00"})
    assert form.status_code == 403
    assert not [e for e in _events(app, drill_id) if e["kind"] == "bid"]
    assert _bid(member, token, drill_id, "-1.00") == 201


def test_a_member_id_changed_in_a_form_is_refused(app: FastAPI) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    assert _bid(member, token, drill_id, "-1.00", member="CM02") == 403
    form = member.post(
        f"/drills/{drill_id}/bids",
        data={"lot": LOT, "price": "-1.00", "member": "CM02", "csrf_token": token},
    )
    assert form.status_code == 403
    assert not [e for e in _events(app, drill_id) if e["kind"] == "bid"]
    assert _bid(member, token, drill_id, "-1.00", member="CM01") == 201
    bids = [e for e in _events(app, drill_id) if e["kind"] == "bid"]
    assert [b["payload"]["member"] for b in bids] == ["CM01"]  # type: ignore[index]


@pytest.mark.parametrize(
    "price", ["lots", "1.234", "NaN", "Infinity", "", "1e999999", "-1" + "0" * 18]
)
def test_a_price_that_is_not_an_amount_is_refused_by_name(app: FastAPI, price: str) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    answer = member.post(
        f"/api/drills/{drill_id}/bids",
        json={"lot": LOT, "price": price},
        headers={"x-csrf-token": token},
    )
    assert answer.status_code == 409
    assert "not an amount in EUR" in answer.json()["detail"]


def test_bids_are_sealed_and_statements_private(app: FastAPI) -> None:
    drill_id = start_drill(app)
    cm01, token1 = _as(app, "cm01")
    cm02, token2 = _as(app, "cm02")
    assert _bid(cm01, token1, drill_id, "-1111111.00") == 201
    assert _bid(cm02, token2, drill_id, "-2222222.00") == 201
    mine = cm01.get(f"/api/drills/{drill_id}").json()
    assert [b["price"] for b in mine["bids"]] == ["-1111111.00"]
    for text in (cm01.get(f"/api/drills/{drill_id}").text, cm01.get(f"/drills/{drill_id}").text):
        assert "2222222" not in text
        assert "CM02" not in text
    record = _as(app, "regulator")[0].get(f"/api/drills/{drill_id}").json()
    prices = [e["payload"]["price"] for e in record["events"] if e["kind"] == "bid"]
    assert prices == ["-1111111.00", "-2222222.00"]
    risk, token = _as(app, "risk")
    assert risk.post(f"/api/drills/{drill_id}/close", headers={"x-csrf-token": token}).is_success
    for client, own, other in ((cm01, "CM01", "CM02"), (cm02, "CM02", "CM01")):
        seen = client.get(f"/api/drills/{drill_id}").json()
        assert seen["phase"] == "closed"
        assert seen["statement"]["member"] == own
        page = client.get(f"/drills/{drill_id}").text
        assert other not in page
        assert other not in client.get(f"/api/drills/{drill_id}").text


def test_concurrent_bidders_lose_and_duplicate_nothing(app: FastAPI) -> None:
    drill_id = start_drill(app)
    users = _service(app).config.users
    members = [f"CM{n:02d}" for n in range(1, 26)]
    clients = []
    for member in members:
        name = f"bidder-{member.lower()}"
        if users.find(name) is None:
            added = add_user(users, name, "member", "bidder-password", member, passwords=FAST)
            assert added.value is not None
        client = TestClient(app)
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login", data={"name": name, "password": "bidder-password", "csrf_token": token}
        )
        clients.append((client, client.get("/api/me").json()["csrf_token"]))
    statuses: list[int] = []
    start = threading.Barrier(len(clients))

    def bid(client: TestClient, token: str, n: int) -> None:
        start.wait()
        statuses.append(_bid(client, token, drill_id, f"-{1000 + n}.00"))

    threads = [
        threading.Thread(target=bid, args=(client, token, n))
        for n, (client, token) in enumerate(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * len(members)
    bids = [e for e in _events(app, drill_id) if e["kind"] == "bid"]
    assert sorted(b["payload"]["member"] for b in bids) == members  # type: ignore[index]
    sequences = [e["sequence"] for e in _events(app, drill_id)]
    assert sequences == list(range(len(sequences)))


def test_the_stored_events_replay_to_the_same_record(app: FastAPI) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    assert _bid(member, token, drill_id, "-3000000.00") == 201
    risk, token = _as(app, "risk")
    risk.post(f"/api/drills/{drill_id}/close", headers={"x-csrf-token": token})
    shown = risk.get(f"/api/drills/{drill_id}").json()
    replayed = LiveDrills(_service(app).store).drill(drill_id).value  # a fresh process's view
    assert replayed is not None
    assert replayed.state.record() | {"id": drill_id, "version": replayed.version} == shown


def test_a_huge_bid_is_refused_before_it_is_read(app: FastAPI) -> None:
    drill_id = start_drill(app)
    member, token = _as(app, "cm01")
    answer = member.post(
        f"/api/drills/{drill_id}/bids",
        content=b'{"lot": "' + b"x" * (1 << 20) + b'", "price": "1"}',
        headers={"x-csrf-token": token, "content-type": "application/json"},
    )
    assert answer.status_code == 413
    assert not [e for e in _events(app, drill_id) if e["kind"] == "bid"]


def test_a_member_of_another_ccp_cannot_open_the_drill(app: FastAPI) -> None:
    drill_id = start_drill(app)
    users = _service(app).config.users
    assert add_user(users, "outsider", "member", "outsider-pw", "ZZ99", passwords=FAST).value
    client = TestClient(app)
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "outsider", "password": "outsider-pw", "csrf_token": token})
    assert client.get(f"/drills/{drill_id}").status_code == 403
    assert client.get(f"/api/drills/{drill_id}").status_code == 403
    assert client.get("/api/drills").json() == []
