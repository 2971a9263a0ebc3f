"""The JSON API fuzzed from its OpenAPI schema (schemathesis): no input gives a server error,
whoever asks (anonymous, the risk team, a member user), with and without the CSRF token."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from ccpwaterfall.service.application import Service
from ccpwaterfall.service.sessions import COOKIE, CSRF_HEADER
from test_service_support import make_service, start_drill

APP = make_service(Path(tempfile.mkdtemp(prefix="ccp-fuzz-")))
start_drill(APP)  # drill 1: the Nasdaq-style drill, its auction open
_SERVICE: Service = APP.state.service


def _as(name: str) -> tuple[dict[str, str], dict[str, str]]:
    session = _SERVICE.sessions.start(name)
    return {COOKIE: _SERVICE.sessions.cookie(session)}, {CSRF_HEADER: session.csrf}


_RISK = _as("risk")
_MEMBER = _as("cm01")
# (cookies, headers) of each caller
CALLERS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "anonymous": ({}, {}),
    "risk": _RISK,
    "risk without CSRF": (_RISK[0], {}),
    "cm01": _MEMBER,
}
SCHEMA = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@SCHEMA.parametrize()
@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_gives_a_server_error(case: Case[Any]) -> None:
    for who, (cookies, headers) in CALLERS.items():
        response = case.call(cookies=cookies, headers={**dict(case.headers or {}), **headers})
        assert response.status_code < 500, (who, case.path, case.path_parameters, response.text)
        if who == "anonymous":  # nothing without a login, whatever the input
            assert response.status_code >= 400
        if who == "risk without CSRF" and case.method.upper() == "POST":
            assert response.status_code >= 400
