"""The JSON API fuzzed from its OpenAPI schema (schemathesis): no input gives a server error,
whoever asks (anonymous, the risk team, a member user)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.generation.case import Case

from ccpwaterfall.service.application import Service
from ccpwaterfall.service.sessions import COOKIE
from test_service_support import make_service

APP = make_service(Path(tempfile.mkdtemp(prefix="ccp-fuzz-")))
_SERVICE: Service = APP.state.service
COOKIES = {
    "anonymous": {},
    "risk": {COOKIE: _SERVICE.sessions.cookie(_SERVICE.sessions.start("risk"))},
    "cm01": {COOKIE: _SERVICE.sessions.cookie(_SERVICE.sessions.start("cm01"))},
}
SCHEMA = schemathesis.openapi.from_asgi("/api/openapi.json", APP)


@SCHEMA.parametrize()
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_input_gives_a_server_error(case: Case[Any]) -> None:
    for who, cookies in COOKIES.items():
        response = case.call(cookies=cookies)
        assert response.status_code < 500, (who, case.path, case.path_parameters, response.text)
        if who == "anonymous":  # nothing without a login, whatever the input
            assert response.status_code >= 400
