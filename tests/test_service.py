"""``ccp serve``: every route for every role and without login, sessions, CSRF, escaping,
huge bodies, and the pages and API holding the same figures as ``ccp run`` and
``ccp liability``.

A member user never sees another member's data: its pages and documents name no
other member of the case, and every route that names a member refuses the others.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from case_samples import EXAMPLES, ROOT
from ccpwaterfall.app.users import (
    DEMO_USERS,
    MemoryUsers,
    add_demo_users,
    add_user,
    authenticate,
)
from ccpwaterfall.io import load_case
from ccpwaterfall.reports.liability_view import liability_to_json, liability_view
from ccpwaterfall.reports.run_view import run_to_json, run_view
from ccpwaterfall.service.sessions import COOKIE
from ccpwaterfall.waterfall import run_case
from ccpwaterfall.waterfall.liability import member_liability
from test_service_support import (
    DEMO,
    DRILL,
    FAST,
    HOSTILE,
    HOSTILE_MEMBER_NAME,
    HOSTILE_NAME,
    NASDAQ,
    ROLES,
    USERS,
    csrf_of,
    log_in,
    make_service,
    save_history,
    start_drill,
)

PAGE = "page"
API = "api"
PUBLIC = "public"

# Each route, a URL of it, and who may open it: "staff" (risk, regulator), "anyone" logged
# in, "own" (staff, and a member user for its own member only), or "public".
ROUTES: tuple[tuple[str, str, str, str], ...] = (
    ("GET", "/", "/", "anyone"),
    ("GET", "/cases/{case_id}", f"/cases/{NASDAQ}", "staff"),
    ("GET", "/cases/{case_id}", f"/cases/{DEMO}", "staff"),
    ("GET", "/cases/{case_id}/members/{member}", f"/cases/{NASDAQ}/members/CM01", "own"),
    ("GET", "/cases/{case_id}/report.{kind}", f"/cases/{NASDAQ}/report.html", "staff"),
    ("GET", "/cases/{case_id}/simulation", f"/cases/{DEMO}/simulation", "staff"),
    ("GET", "/api/cases/{case_id}/simulation", f"/api/cases/{DEMO}/simulation", "staff"),
    ("GET", "/api/me", "/api/me", "anyone"),
    ("GET", "/api/cases", "/api/cases", "anyone"),
    ("GET", "/api/cases/{case_id}", f"/api/cases/{NASDAQ}", "staff"),
    ("GET", "/api/cases/{case_id}", f"/api/cases/{DEMO}", "staff"),
    (
        "GET",
        "/api/cases/{case_id}/members/{member}/liability",
        f"/api/cases/{NASDAQ}/members/CM01/liability",
        "own",
    ),
    ("GET", "/drills", "/drills", "anyone"),
    ("GET", "/drills/{drill_id}", "/drills/1", "anyone"),
    ("GET", "/api/drills", "/api/drills", "anyone"),
    ("GET", "/api/drills/{drill_id}", "/api/drills/1", "anyone"),
    ("GET", "/api/drills/{drill_id}/status", "/api/drills/1/status", "anyone"),
    ("GET", "/saved", "/saved", "anyone"),
    ("GET", "/saved/{save_id}", "/saved/2", "anyone"),
    ("GET", "/saved/{save_id}", "/saved/4", "anyone"),
    ("GET", "/api/saved", "/api/saved", "anyone"),
    ("GET", "/api/saved/{save_id}", "/api/saved/4", "anyone"),
    ("GET", "/members/{member}/history", "/members/CM01/history", "own"),
    ("GET", "/api/members/{member}/history", "/api/members/CM01/history", "own"),
    ("GET", "/login", "/login", "public"),
    ("GET", "/assets/live.js", "/assets/live.js", "public"),
    ("GET", "/assets/vega.js", "/assets/vega.js", "public"),
    ("GET", "/assets/charts.js", "/assets/charts.js", "public"),
    ("GET", "/api/openapi.json", "/api/openapi.json", "public"),
)
# Routes that change state, tested on their own: login and logout below, the drill's in
# test_service_drills.py.
WRITES = {
    ("POST", "/login"),
    ("POST", "/logout"),
    ("POST", "/drills"),
    ("POST", "/drills/{drill_id}/bids"),
    ("POST", "/drills/{drill_id}/close"),
    ("POST", "/api/drills"),
    ("POST", "/api/drills/{drill_id}/bids"),
    ("POST", "/api/drills/{drill_id}/close"),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    root = tmp_path_factory.mktemp("service")
    app = make_service(root)
    assert start_drill(app) == 1
    assert save_history(app, root) == (2, 3, 4)  # a run, then two end-of-days
    return app


@pytest.fixture
def client(service: FastAPI) -> Iterator[TestClient]:
    with TestClient(service) as client:
        yield client


def _client_as(service: FastAPI, name: str | None) -> TestClient:
    return log_in(TestClient(service), name)


def _expected(rule: str, name: str | None, path: str) -> int:
    if rule == "public":
        return 200
    if name is None:
        return 401 if path.startswith("/api/") else 303
    role, member, _ = USERS[name]
    if rule == "anyone" or role != "member":
        return 200
    if rule == "staff":
        return 403
    return 200 if member is not None and f"/{member}" in path else 403


def _routes(routes: Iterable[object]) -> Iterator[tuple[str, str]]:
    for route in routes:
        included = getattr(route, "original_router", None)  # a router included in the app
        if included is not None:
            yield from _routes(included.routes)
        for method in getattr(route, "methods", None) or ():
            if method != "HEAD":
                yield method, str(getattr(route, "path", ""))


def test_every_route_is_in_the_role_table(service: FastAPI) -> None:
    served = set(_routes(service.routes))
    assert len(served) > 10
    listed = {(method, template) for method, template, _, _ in ROUTES} | WRITES
    assert served == listed


@pytest.mark.parametrize("name", ROLES, ids=lambda n: n or "anonymous")
def test_every_route_for_every_role(service: FastAPI, name: str | None) -> None:
    client = _client_as(service, name)
    for method, _, path, rule in ROUTES:
        answer = client.request(method, path, follow_redirects=False)
        assert answer.status_code == _expected(rule, name, path), (method, path, answer.text)
        if answer.status_code == 303:
            assert answer.headers["location"] == "/login"


@pytest.mark.parametrize(
    "path",
    [
        f"/cases/{NASDAQ}/members/CM02",
        f"/api/cases/{NASDAQ}/members/CM02/liability",
        f"/cases/{NASDAQ}/members/cm01",  # ids are exact: not the bound member
        f"/api/cases/{NASDAQ}/members/CM01%20/liability",
        f"/api/cases/{NASDAQ}/members/AAS/liability",  # the defaulter is another member too
        "/members/CM02/history",
        "/api/members/CM02/history",
    ],
)
def test_a_member_id_changed_in_the_url_is_refused(service: FastAPI, path: str) -> None:
    answer = _client_as(service, "cm01").get(path)
    assert answer.status_code == 403
    assert "CM02" not in answer.text.replace(path, "")


def test_a_member_never_sees_another_members_data(service: FastAPI) -> None:
    case = load_case(EXAMPLES / NASDAQ / "case.toml")
    # The defaulter is named to every member by the CCP's notice: not another member's data.
    others = [m.id for m in case.members if m.id not in {"CM01", "AAS"}]
    client = _client_as(service, "cm01")
    seen = 0
    for _, _, path, rule in ROUTES:
        if rule == "public":
            continue
        answer = client.get(path)
        if answer.status_code != 200:
            continue
        seen += 1
        named = [m for m in others if re.search(rf"\b{m}\b", answer.text)]
        assert named == [], (path, named)
    assert seen >= 4  # home, own liability page and document, the case list


def test_a_member_lists_only_the_cases_that_list_it(service: FastAPI) -> None:
    as_member = _client_as(service, "cm01").get("/api/cases").json()
    as_risk = _client_as(service, "risk").get("/api/cases").json()
    assert {c["id"] for c in as_member} == {NASDAQ, HOSTILE}
    assert {c["id"] for c in as_risk} == {NASDAQ, HOSTILE, DEMO, DRILL, "broken"}


def test_api_documents_equal_the_command_line_json(service: FastAPI) -> None:
    case = load_case(EXAMPLES / NASDAQ / "case.toml")
    result = run_case(case)
    client = _client_as(service, "regulator")
    run = client.get(f"/api/cases/{NASDAQ}").json()
    assert run == json.loads(json.dumps(run_to_json(run_view(result, None, journal=True))))
    liability = client.get(f"/api/cases/{NASDAQ}/members/CM05/liability").json()
    expected = liability_to_json(liability_view(member_liability(case, "CM05", result)))
    assert liability == json.loads(json.dumps(expected))
    assert liability["member"] == "CM05"
    assert isinstance(liability["max_total"], str)  # money as a decimal string


def test_case_page_shows_each_member_charge_exactly_with_charts_served_locally(
    service: FastAPI,
) -> None:
    result = run_case(load_case(EXAMPLES / NASDAQ / "case.toml"))
    page = _client_as(service, "risk").get(f"/cases/{NASDAQ}").text
    for charge in result.events[0].members:
        assert f'data-value="{charge.total.amount}"' in page
    assert page.count("data-vega-lite=") >= 2
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts == ["/assets/vega.js", "/assets/charts.js"]  # nothing from the network
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert f"/cases/{NASDAQ}/report.pdf" in page
    assert "Journal" in page


def test_a_risk_case_shows_its_end_of_day_as_ccp_eod_does(service: FastAPI) -> None:
    from ccpwaterfall.app.risk import end_of_day
    from ccpwaterfall.reports.eod_view import end_of_day_to_json, eod_view

    client = _client_as(service, "regulator")
    expected = end_of_day(EXAMPLES / DEMO / "case.toml").value
    assert expected is not None
    document = client.get(f"/api/cases/{DEMO}").json()
    assert document == json.loads(json.dumps(end_of_day_to_json(eod_view(expected))))
    page = client.get(f"/cases/{DEMO}").text
    for contribution in expected.fund.contributions_money:
        assert f'data-value="{contribution.amount}"' in page
    assert page.count("data-vega-lite=") >= 3


def test_a_risk_case_simulates_as_ccp_simulate_does(service: FastAPI) -> None:
    from ccpwaterfall.app.simulate import SimulateOptions, simulate
    from ccpwaterfall.reports.simulation_view import simulation_to_json, simulation_view

    run = simulate(EXAMPLES / DEMO / "case.toml", SimulateOptions()).value
    assert run is not None
    expected = json.loads(json.dumps(simulation_to_json(simulation_view(run))))
    client = _client_as(service, "risk")
    assert client.get(f"/api/cases/{DEMO}/simulation").json() == expected
    page = client.get(f"/cases/{DEMO}/simulation").text
    assert page.count("data-vega-lite=") == 2
    for figures in expected["members"].values():
        assert f'data-value="{figures["es"]}"' in page
    assert client.get(f"/api/cases/{NASDAQ}/simulation").status_code == 404


def test_report_link_gives_the_ccp_report_file(service: FastAPI) -> None:
    answer = _client_as(service, "risk").get(f"/cases/{NASDAQ}/report.html")
    assert answer.headers["content-type"].startswith("text/html")
    assert answer.text.count("<svg") >= 3  # charts drawn inline, as ccp report writes them
    assert "attachment" in answer.headers["content-disposition"]


def test_report_link_gives_the_pdf_too(service: FastAPI) -> None:
    from ccpwaterfall.reports.html_pdf import pdf_unavailable

    if pdf_unavailable() is not None:
        pytest.skip("WeasyPrint's system libraries are missing")
    answer = _client_as(service, "regulator").get(f"/cases/{NASDAQ}/report.pdf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF")


def test_html_in_names_is_escaped(service: FastAPI) -> None:
    client = _client_as(service, "risk")
    pages = [
        client.get("/").text,
        client.get(f"/cases/{HOSTILE}").text,
        client.get(f"/cases/{HOSTILE}/members/CM01").text,
    ]
    for page in pages:
        assert "<script>alert" not in page
        assert "<img src=x" not in page
    assert "&lt;script&gt;alert(" in pages[0]
    assert "&lt;img src=x onerror=alert(1)&gt;" in pages[2]
    # The JSON keeps the names as written.
    document = client.get(f"/api/cases/{HOSTILE}").json()
    assert document["case"] == HOSTILE_NAME
    assert HOSTILE_MEMBER_NAME.startswith("<img")


def test_an_invalid_case_is_named_with_its_problems(service: FastAPI) -> None:
    answer = _client_as(service, "risk").get("/api/cases/broken")
    assert answer.status_code == 422
    assert "broken is not a valid case" in answer.json()["detail"]
    assert _client_as(service, "risk").get("/api/cases/nothing-here").status_code == 404


# --------------------------------------------------------------------------- sessions


def test_login_starts_a_new_session_no_fixation(client: TestClient) -> None:
    client.get("/login")
    planted = client.cookies[COOKIE]
    log_in(client, "risk")
    logged_in = client.cookies[COOKIE]
    assert logged_in != planted
    # Whoever planted the first id holds nothing.
    other = TestClient(client.app)
    other.cookies.set(COOKIE, planted)
    assert other.get("/api/me").status_code == 401
    me = client.get("/api/me").json()
    assert (me["name"], me["role"], me["member"]) == ("risk", "risk", None)
    assert me["csrf_token"] == csrf_of(client.get("/").text)  # the new session's own token


def test_logout_ends_the_session_for_good(client: TestClient) -> None:
    log_in(client, "cm02")
    cookie = client.cookies[COOKIE]
    token = csrf_of(client.get("/").text)
    assert client.post("/logout", data={"csrf_token": token}).status_code == 200  # the login page
    replay = TestClient(client.app)
    replay.cookies.set(COOKIE, cookie)
    assert replay.get("/api/me").status_code == 401


def test_a_forged_cookie_is_ignored(client: TestClient) -> None:
    log_in(client, "risk")
    cookie = client.cookies[COOKIE]
    forged = TestClient(client.app)
    forged.cookies.set(COOKIE, cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB"))
    assert forged.get("/api/me").status_code == 401


def test_a_wrong_password_is_refused_and_logs_nobody_in(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": "risk", "password": "nope", "csrf_token": token})
    assert answer.status_code == 401
    assert "Wrong user name or password" in answer.text
    assert client.get("/api/me").status_code == 401


@pytest.mark.parametrize("token", [None, "", "not-the-token"])
def test_login_without_the_forms_csrf_token_is_refused(
    client: TestClient, token: str | None
) -> None:
    client.get("/login")
    data = {"name": "risk", "password": USERS["risk"][2]}
    if token is not None:
        data["csrf_token"] = token
    answer = client.post("/login", data=data, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/api/me").status_code == 401


def test_a_csrf_token_of_another_session_is_refused(service: FastAPI) -> None:
    victim = _client_as(service, "risk")
    attacker = TestClient(service)
    stolen = csrf_of(attacker.get("/login").text)
    answer = victim.post("/logout", data={"csrf_token": stolen}, follow_redirects=False)
    assert answer.status_code == 403
    assert victim.get("/api/me").status_code == 200  # still logged in


def test_cookies_are_http_only_and_same_site(client: TestClient) -> None:
    answer = client.get("/login")
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie
    assert "samesite=strict" in cookie


def test_pages_forbid_framing_and_foreign_scripts(client: TestClient) -> None:
    headers = client.get("/login").headers
    assert headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in headers["content-security-policy"]


# --------------------------------------------------------------------------- bodies


def test_a_huge_body_is_refused_before_it_is_read(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    huge = "x" * (1 << 20)
    answer = client.post("/login", data={"name": huge, "password": huge, "csrf_token": token})
    assert answer.status_code == 413
    assert client.get("/api/me").status_code == 401


def test_a_huge_streamed_body_is_refused(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(64):
            yield b"name=" + b"x" * 4096

    answer = client.post(
        "/login",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert answer.status_code == 413


def test_an_overlong_name_or_password_is_refused_cleanly(client: TestClient) -> None:
    token = csrf_of(client.get("/login").text)
    answer = client.post("/login", data={"name": "r" * 100, "password": "p", "csrf_token": token})
    assert answer.status_code == 422


# --------------------------------------------------------------------------- users


def test_passwords_are_kept_as_argon2_hashes() -> None:
    users = MemoryUsers()
    added = add_user(users, "alice", "risk", "correct horse", passwords=FAST)
    assert added.value is not None
    assert added.value.password_hash.startswith("$argon2id$")
    assert "correct horse" not in added.value.password_hash
    assert authenticate(users, "alice", "correct horse", passwords=FAST) == added.value
    assert authenticate(users, "alice", "wrong horse", passwords=FAST) is None
    assert authenticate(users, "bob", "correct horse", passwords=FAST) is None


def test_add_user_reports_every_problem_at_once() -> None:
    users = MemoryUsers()
    outcome = add_user(users, "Bad Name", "auditor", "short", passwords=FAST)
    fields = [issue.field for problems in outcome.problems for issue in problems.issues]
    assert fields == ["name", "role", "password"]
    outcome = add_user(users, "m1", "member", "long enough", passwords=FAST)
    fields = [issue.field for problems in outcome.problems for issue in problems.issues]
    assert fields == ["member"]
    assert users.all() == ()


def test_demo_users_only_on_a_first_start() -> None:
    users = MemoryUsers()
    demo = add_demo_users(users, passwords=FAST)
    assert {d.role.value for d in demo} == {"risk", "member", "regulator"}
    for user in demo:
        assert authenticate(users, user.name, user.password, passwords=FAST) is not None
    assert add_demo_users(users, passwords=FAST) == ()


def test_the_openapi_schema_documents_the_api_only(client: TestClient) -> None:
    paths = client.get("/api/openapi.json").json()["paths"]
    assert all(path.startswith("/api/") for path in paths)
    assert "/api/cases/{case_id}/members/{member}/liability" in paths


def test_the_service_starts_on_the_default_folder(tmp_path: Path) -> None:
    from ccpwaterfall.service import ServiceConfig

    assert ServiceConfig().cases == Path("examples")


# --------------------------------------------------------------------------- ccp serve


def test_ccp_starts_without_loading_the_web_stack() -> None:
    code = (
        "import sys\n"
        "from ccpwaterfall.cli.main import create_app\n"
        "create_app()\n"
        "web = ('fastapi', 'uvicorn', 'starlette', 'argon2')\n"
        "print(sorted(m for m in web if m in sys.modules))"
    )
    shown = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert shown.stdout.strip() == "[]"


def test_ccp_serve_starts_and_prints_the_demo_users(tmp_path: Path) -> None:
    from browser.harness import free_port

    port = free_port()
    db = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    command = [sys.executable, "-m", "ccpwaterfall", "serve", "--port", str(port), "--db", db]
    server = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = []
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if line.startswith("Serving"):
                break
        text = "".join(lines)
        for demo in DEMO_USERS:
            assert f"{demo.name} / {demo.password} / {demo.role.value}" in text
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as answer:
                    assert answer.status == 200
                    assert 'name="csrf_token"' in answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, text
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_ccp_user_add_keeps_users_in_the_database_and_the_service_logs_them_in(
    tmp_path: Path,
) -> None:
    from typer.testing import CliRunner

    from ccpwaterfall.app.users import DatabaseUsers
    from ccpwaterfall.cli.main import create_app
    from ccpwaterfall.service import ServiceConfig, create_service
    from ccpwaterfall.store import open_store

    db = f"sqlite:///{tmp_path / 'users.sqlite3'}"
    runner = CliRunner()
    command = ["user", "add", "alice", "--role", "member", "--member", "CM07"]
    added = runner.invoke(
        create_app(), [*command, "--password-stdin", "--db", db], input="pw-alice-1\n"
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(create_app(), [*command, "--password-stdin", "--db", db], input="x\n")
    assert again.exit_code == 2
    assert "already exists" in again.output
    listed = runner.invoke(create_app(), ["user", "list", "--db", db, "--json"])
    assert json.loads(listed.output) == {
        "users": [{"name": "alice", "role": "member", "member": "CM07"}]
    }
    store = open_store(db)
    users = DatabaseUsers(store.engine)
    stored = users.find("alice")
    assert stored is not None
    assert stored.password_hash.startswith("$argon2id$")
    config = ServiceConfig(cases=EXAMPLES, users=users, store=store)
    client = TestClient(create_service(config))
    token = csrf_of(client.get("/login").text)
    client.post("/login", data={"name": "alice", "password": "pw-alice-1", "csrf_token": token})
    assert client.get("/api/me").json()["member"] == "CM07"


def test_the_users_table_comes_with_a_schema_upgrade(tmp_path: Path) -> None:
    from sqlalchemy import inspect

    from ccpwaterfall.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    columns = {c["name"] for c in inspect(store.engine).get_columns("users")}
    assert columns == {"name", "role", "member", "password_hash", "created_at"}


def test_visits_to_the_login_page_never_fill_the_memory() -> None:
    from ccpwaterfall.service.sessions import Sessions

    sessions = Sessions("secret", max_sessions=3)
    logged_in = sessions.start("risk")
    anonymous = [sessions.start(None) for _ in range(10)]
    assert len(sessions) == 3
    assert sessions.from_cookie(sessions.cookie(logged_in)) is logged_in
    assert sessions.from_cookie(sessions.cookie(anonymous[-1])) is anonymous[-1]
    assert sessions.from_cookie(sessions.cookie(anonymous[0])) is None
