"""Saved runs and end-of-days in the service: each figure's change against the previous
stored day, a member user's own row only, and a member's history across stored results."""

from __future__ import annotations

from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ccpwaterfall.app import store as stored
from ccpwaterfall.service.application import Service
from test_service_support import log_in, make_service, save_history, start_drill


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    root = tmp_path_factory.mktemp("saved")
    app = make_service(root)
    save_history(app, root)
    return app


def _ids(app: FastAPI) -> tuple[int, int, int]:
    service: Service = app.state.service
    saves = {s.kind: s for s in service.store.history() if s.kind == "run"}
    eods = sorted((s for s in service.store.history() if s.kind == "eod"), key=lambda s: s.id)
    return saves["run"].id, eods[0].id, eods[1].id


def test_an_end_of_day_shows_each_change_against_the_previous_day(app: FastAPI) -> None:
    service: Service = app.state.service
    _, first, second = _ids(app)
    before = stored.show(service.store, first).value
    after = stored.show(service.store, second).value
    assert before is not None
    assert after is not None
    view = log_in(TestClient(app), "regulator").get(f"/api/saved/{second}").json()
    assert view["previous"] == {"id": first, "business_date": "2026-11-30"}
    old, new = before.members(), after.members()
    moved = 0
    for member, changes in view["changes"].items():
        for measure, change in changes.items():
            expected = Decimal(new[member].get(measure, "0")) - Decimal(
                old[member].get(measure, "0")
            )
            assert Decimal(change) == expected
            moved += expected != 0
    assert moved > 0  # the larger buffer moved the contributions
    first_view = log_in(TestClient(app), "risk").get(f"/api/saved/{first}").json()
    assert first_view["previous"] is None
    page = log_in(TestClient(app), "risk").get(f"/saved/{second}").text
    assert "Change against the previous stored day, 2026-11-30" in page


def test_a_member_sees_its_own_row_only(app: FastAPI) -> None:
    run, _, second = _ids(app)
    client = log_in(TestClient(app), "cm01")
    for save_id in (run, second):
        view = client.get(f"/api/saved/{save_id}").json()
        assert set(view["members"]) <= {"CM01"}
        assert set(view["changes"] or {}) <= {"CM01"}
    assert set(client.get(f"/api/saved/{second}").json()["members"]) == {"CM01"}
    page = client.get(f"/saved/{second}").text
    assert "CM02" not in page
    everyone = log_in(TestClient(app), "risk").get(f"/api/saved/{second}").json()
    assert len(everyone["members"]) > 1


def test_a_members_history_spans_the_stored_days_runs_and_drills(app: FastAPI) -> None:
    service: Service = app.state.service
    drill_id = start_drill(app)
    bidder = log_in(TestClient(app), "cm01")
    token = bidder.get("/api/me").json()["csrf_token"]
    bidder.post(
        f"/api/drills/{drill_id}/bids",
        json={"lot": "nordic-german-power-spread", "price": "-50000000.00"},
        headers={"x-csrf-token": token},
    )
    risk = log_in(TestClient(app), "risk")
    risk_token = risk.get("/api/me").json()["csrf_token"]
    risk.post(f"/api/drills/{drill_id}/close", headers={"x-csrf-token": risk_token})
    history = log_in(TestClient(app), "cm02").get("/api/members/CM02/history").json()
    assert [d["business_date"] for d in history["days"]] == ["2026-11-30", "2026-12-01"]
    _, first, _ = _ids(app)
    shown = stored.show(service.store, first).value
    assert shown is not None
    assert history["days"][0]["initial_margin"] == shown.members()["CM02"]["initial_margin"]
    kinds = [p["kind"] for p in history["paid"]]
    assert kinds == ["run", "drill"]
    statement = next(
        e["payload"]
        for e in service.store.events(drill_id)
        if e["kind"] == "statement" and e["payload"]["member"] == "CM02"  # type: ignore[index]
    )
    assert history["paid"][1]["paid"] == statement["paid"]  # type: ignore[index]
    page = log_in(TestClient(app), "cm02").get("/members/CM02/history").text
    assert page.count("data-vega-lite=") == 2


def test_a_drill_id_leads_to_the_drill_page(app: FastAPI) -> None:
    drill_id = start_drill(app)
    answer = log_in(TestClient(app), "risk").get(f"/saved/{drill_id}", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/drills/{drill_id}"
    assert log_in(TestClient(app), "risk").get(f"/api/saved/{drill_id}").status_code == 404


def test_an_end_of_day_shows_the_ccps_figures_against_the_previous_day(app: FastAPI) -> None:
    service: Service = app.state.service
    _, first, second = _ids(app)
    before = stored.show(service.store, first).value
    after = stored.show(service.store, second).value
    assert before is not None
    assert after is not None
    old, new = before.document("snapshot"), after.document("snapshot")
    assert old is not None
    assert new is not None
    view = log_in(TestClient(app), "risk").get(f"/api/saved/{second}").json()
    headline = {label: [value, was, change] for label, value, was, change in view["headline"]}
    fund_before, fund_after = old["fund"]["fund"], new["fund"]["fund"]  # type: ignore[index]
    assert headline["Default fund"] == [
        fund_after,
        fund_before,
        format(Decimal(fund_after) - Decimal(fund_before), "f"),
    ]
    assert Decimal(headline["Default fund"][2]) > 0  # the larger buffer, the larger fund
    assert len(view["drills"]) == len(new["fund"]["drills"])  # type: ignore[index]
    member = log_in(TestClient(app), "cm01").get(f"/api/saved/{second}").json()
    assert member["drills"] == []  # the drills name member groups


def test_a_saved_run_shows_its_waterfalls_and_journal_to_staff(app: FastAPI) -> None:
    service: Service = app.state.service
    run, _, _ = _ids(app)
    shown = stored.show(service.store, run).value
    assert shown is not None
    journal = [r.value() for r in shown.records if r.kind == "journal_entry"]
    view = log_in(TestClient(app), "regulator").get(f"/api/saved/{run}").json()
    assert view["journal"] == journal
    result = shown.document("result")
    assert result is not None
    assert [e["loss"] for e in view["events"]] == [e["loss"] for e in result["events"]]  # type: ignore[attr-defined]
    page = log_in(TestClient(app), "regulator").get(f"/saved/{run}").text
    assert page.count("data-vega-lite=") == 2  # the event's waterfall, the members' charges
    assert "Journal" in page
    member = log_in(TestClient(app), "cm01").get(f"/api/saved/{run}").json()
    assert member["journal"] == []  # entries post every member's accounts
    assert member["events"] == view["events"]  # the tranches are the CCP's, not a member's
