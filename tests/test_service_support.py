"""Shared set-up of the service tests (no tests here): a service over a folder of sample cases,
its users, and logging in as each of them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import shutil
from pathlib import Path

from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from fastapi import FastAPI
from fastapi.testclient import TestClient

from case_samples import EXAMPLES
from ccpwaterfall.app.users import MemoryUsers, Passwords, add_user
from ccpwaterfall.io import load_case
from ccpwaterfall.service import ServiceConfig, create_service
from ccpwaterfall.service.sessions import COOKIE
from ccpwaterfall.store import open_store

# Tests log in hundreds of times: the cheapest Argon2 parameters, the same code path.
FAST = Passwords(PasswordHasher.from_parameters(CHEAPEST))

#: name -> (role, member, password)
USERS = {
    "risk": ("risk", None, "risk-password"),
    "regulator": ("regulator", None, "regulator-password"),
    "cm01": ("member", "CM01", "cm01-password"),
    "cm02": ("member", "CM02", "cm02-password"),
    "cm03": ("member", "CM03", "cm03-password"),
}
ROLES = (None, *USERS)  # None: not logged in

NASDAQ = "nasdaq-2018"
DEMO = "demo-ccp"  # a risk case: its end of day
DRILL = "drill-nasdaq-2018-style"  # members AAS (the defaulter), CM01 to CM25
HOSTILE = "hostile"  # a case whose names are HTML
HOSTILE_NAME = "<script>alert('case')</script>"
HOSTILE_MEMBER_NAME = "<img src=x onerror=alert(1)>"

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_folder(root: Path) -> Path:
    """The cases a test service serves: the Nasdaq example, a case with HTML in its names, the
    demo CCP's risk case, the Nasdaq-style drill and an invalid case."""
    folder = root / "cases"
    (folder / NASDAQ).mkdir(parents=True)
    shutil.copy(EXAMPLES / NASDAQ / "case.toml", folder / NASDAQ / "case.toml")
    text = (EXAMPLES / NASDAQ / "case.toml").read_text()
    text = re.sub(r'(?m)^name = ".*"$', f'name = "{HOSTILE_NAME}"', text, count=1)
    text = text.replace('id = "CM01"\n', f'id = "CM01"\nname = "{HOSTILE_MEMBER_NAME}"\n', 1)
    (folder / f"{HOSTILE}.toml").write_text(text)
    shutil.copytree(EXAMPLES / DEMO, folder / DEMO)
    shutil.copytree(EXAMPLES / DRILL, folder / DRILL)
    (folder / "broken.toml").write_text('format = "ccp-case/1"\nname = "Broken"\n')
    return folder


def make_service(root: Path, **options: object) -> FastAPI:
    users = MemoryUsers()
    for name, (role, member, password) in USERS.items():
        added = add_user(users, name, role, password, member, passwords=FAST)
        assert added.value is not None, added.problems
    store = open_store(f"sqlite:///{root / 'store.sqlite3'}")
    config = ServiceConfig(cases=make_folder(root), users=users, passwords=FAST, store=store)
    return create_service(dataclasses.replace(config, **options))  # type: ignore[arg-type]


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "no CSRF token in the page"
    return found.group(1)


def log_in(client: TestClient, name: str | None) -> TestClient:
    """Log the client in as ``name`` through the login form (None: stay anonymous)."""
    if name is None:
        return client
    form = client.get("/login")
    token = csrf_of(form.text)
    password = USERS[name][2]
    answer = client.post(
        "/login",
        data={"name": name, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert client.cookies.get(COOKIE)
    return client


def start_drill(app: FastAPI) -> int:
    """Start the Nasdaq-style drill on the service, as the risk team would; its id."""
    from ccpwaterfall.service.application import Service

    service: Service = app.state.service
    started = service.drills.start(service.case(DRILL).path)
    assert started.value is not None, started.problems
    return started.value.id


class Clock:
    """The wall clock, which the test moves ahead by hand (a drill's clock starts from the
    real time it was stored)."""

    def __init__(self) -> None:
        self.offset = dt.timedelta()

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


def save_history(app: FastAPI, root: Path) -> tuple[int, int, int]:
    """Save what the commands' ``--save`` would: the Nasdaq run, then the demo CCP's end of
    day on two business dates, the second with a larger fund buffer; their ids."""
    from ccpwaterfall.app import store as stored
    from ccpwaterfall.app.risk import end_of_day
    from ccpwaterfall.service.application import Service
    from ccpwaterfall.waterfall import run_case

    service: Service = app.state.service
    nasdaq = service.case(NASDAQ).path
    run = stored.save_run(service.store, nasdaq, run_case(load_case(nasdaq)))
    ids = [run.id]
    demo = service.case(DEMO).path
    next_day = root / "demo-next-day"
    shutil.copytree(demo.parent, next_day)
    text = (next_day / "case.toml").read_text()
    (next_day / "case.toml").write_text(text.replace('buffer = "0.1"', 'buffer = "0.3"'))
    for path, day in (
        (demo, dt.date(2026, 11, 30)),
        (next_day / "case.toml", dt.date(2026, 12, 1)),
    ):
        eod = end_of_day(path).value
        assert eod is not None
        ids.append(stored.save_end_of_day(service.store, path, eod, day).id)
    return ids[0], ids[1], ids[2]
