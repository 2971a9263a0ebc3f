"""The application: its configuration, who is asking, what each role may see, and errors.

Every route states the roles it serves (``Access``); anyone else gets 403, and
anyone not logged in is sent to the login page (a page) or gets 401 (the API).
A ``member`` user is bound to one clearing member, and every route that names
a member checks it is that one (``allow_member``), whatever the URL or form says.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from ccpwaterfall.app.service import CaseEntry, CaseRuns, find_cases
from ccpwaterfall.app.service_drills import Clock, LiveDrills, utc_now
from ccpwaterfall.app.users import PASSWORDS, MemoryUsers, Passwords, Role, User, UserRepository
from ccpwaterfall.service.limits import MAX_BODY, BodyLimit
from ccpwaterfall.service.sessions import COOKIE, CSRF_FIELD, Session, Sessions

if TYPE_CHECKING:
    from jinja2 import Template

    from ccpwaterfall.store import Store

API_PREFIX = "/api/"
LOGIN_PATH = "/login"
#: Every role; routes name the ones they serve.
EVERYONE = frozenset(Role)
STAFF = frozenset({Role.RISK, Role.REGULATOR})  # all members' data, read

# Vega compiles chart expressions with Function(): 'unsafe-eval' for scripts, nothing inline.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; "
    "base-uri 'none'"
)


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    """What a service serves: the folder of case files, the users, the cookie secret (random
    per start when not given: sessions then end with the process), the body limit, the
    store of saved results and drills, and the clock."""

    cases: Path = Path("examples")
    users: UserRepository = field(default_factory=MemoryUsers)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    max_body: int = MAX_BODY
    secure_cookies: bool = False  # behind HTTPS: cookies only over HTTPS
    passwords: Passwords = PASSWORDS
    store: Store | None = None  # saved results and drills; None: the default database
    clock: Clock = utc_now  # the wall clock; live drills run their own clock from it


class Service:
    """The state a running service shares between requests."""

    def __init__(self, config: ServiceConfig) -> None:
        self.config = config
        self.sessions = Sessions(config.secret)
        self.runs = CaseRuns()
        self.store = config.store if config.store is not None else _default_store()
        self.drills = LiveDrills(self.store, config.clock)

    def cases(self) -> tuple[CaseEntry, ...]:
        return find_cases(self.config.cases)

    def case(self, case_id: str) -> CaseEntry:
        for entry in self.cases():
            if entry.id == case_id:
                return entry
        raise HTTPException(404, f"no case {case_id!r}")


def _default_store() -> Store:
    from ccpwaterfall.app.store import open_database  # noqa: PLC0415

    opened = open_database(None)
    if opened.value is None:
        problem = opened.problems[0].issues[0]
        raise RuntimeError(f"{problem.field}: {problem.message}")
    return opened.value


class LoginRequiredError(Exception):
    """The route needs a logged-in user."""


def service_of(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


def session_of(request: Request) -> Session | None:
    return service_of(request).sessions.from_cookie(request.cookies.get(COOKIE))


def user_of(request: Request) -> User | None:
    session = session_of(request)
    if session is None or session.user is None:
        return None
    return service_of(request).config.users.find(session.user)


@dataclass(frozen=True, slots=True)
class Access:
    """A route's rule: the roles it serves. As a dependency, it gives the user asking."""

    roles: frozenset[Role]

    def __call__(self, request: Request) -> User:
        user = user_of(request)
        if user is None:
            raise LoginRequiredError
        if user.role not in self.roles:
            raise HTTPException(403, f"the {user.role.value} role may not see this")
        return user


def allow_member(user: User, member: str) -> None:
    """Refuse a member user anything about another member."""
    if not user.sees_member(member):
        raise HTTPException(403, "a member sees only its own data")


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page from the report templates' environment."""
    from ccpwaterfall.reports.html import environment  # noqa: PLC0415 (loads Altair's types)

    found: Template = environment().get_template(template)
    return HTMLResponse(found.render(csrf_field=CSRF_FIELD, **context), status_code=status)


def create_service(config: ServiceConfig | None = None) -> FastAPI:
    """The web service over ``config`` (the defaults: ``examples/``, no users)."""
    from ccpwaterfall.service import api, drills, pages, saved  # noqa: PLC0415 (they import this)

    service = Service(ServiceConfig() if config is None else config)
    app = FastAPI(
        title="ccpwaterfall",
        summary="Default waterfalls of central counterparties: cases, runs, liabilities",
        version="1",
        docs_url=None,  # its page loads scripts from the network
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.service = service
    app.include_router(pages.router)
    app.include_router(drills.pages)
    app.include_router(saved.pages)
    app.include_router(api.router)
    app.include_router(drills.api)
    app.include_router(saved.api)
    app.add_exception_handler(LoginRequiredError, _login_required)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.middleware("http")(_security_headers)
    app.add_middleware(BodyLimit, limit=service.config.max_body)
    return app


async def _security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    response = await call_next(request)
    response.headers.setdefault("content-security-policy", CONTENT_SECURITY_POLICY)
    response.headers["x-content-type-options"] = "nosniff"
    response.headers["x-frame-options"] = "DENY"
    response.headers["referrer-policy"] = "same-origin"
    response.headers.setdefault("cache-control", "no-store")
    return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


async def _login_required(request: Request, _: Exception) -> Response:
    if _is_api(request):
        return JSONResponse({"detail": "log in first"}, status_code=401)
    return RedirectResponse(LOGIN_PATH, status_code=303)


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if _is_api(request):
        return JSONResponse({"detail": error.detail}, status_code=error.status_code)
    return page(
        "service/error.html.j2",
        status=error.status_code,
        user=user_of(request),
        session=session_of(request),
        status_code=error.status_code,
        detail=str(error.detail),
    )


async def _validation_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, RequestValidationError)
    problems = [
        {"field": ".".join(str(part) for part in problem.get("loc", ())), "problem": problem["msg"]}
        for problem in error.errors()
    ]
    if _is_api(request):
        return JSONResponse({"detail": problems}, status_code=422)
    text = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
    return page(
        "service/error.html.j2",
        status=422,
        user=user_of(request),
        session=session_of(request),
        status_code=422,
        detail=text,
    )
