"""The pages: login, the cases, a case's run, a member's liability, reports, the chart scripts.

Pages are the report templates (``reports/templates``) with the service's own
under ``service/``; charts are drawn in the browser from their Vega-Lite
specifications (``embed_drawer``), by scripts this service serves itself.
"""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ccpwaterfall.app.outcome import Problems
from ccpwaterfall.app.service import CaseEntry, CaseRun
from ccpwaterfall.app.users import MAX_PASSWORD, Role, User, authenticate
from ccpwaterfall.service.application import (
    EVERYONE,
    LOGIN_PATH,
    STAFF,
    Access,
    allow_member,
    page,
    service_of,
    session_of,
    user_of,
)
from ccpwaterfall.service.sessions import COOKIE, Session

if TYPE_CHECKING:
    from ccpwaterfall.lifecycle.end_of_day import EndOfDay
    from ccpwaterfall.simulation.engine import Simulation

T = TypeVar("T")
router = APIRouter(include_in_schema=False)

Anyone = Annotated[User, Depends(Access(EVERYONE))]
Staff = Annotated[User, Depends(Access(STAFF))]
MAX_NAME = 64
REPORT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf"}


def _context(request: Request, user: User | None, **more: Any) -> dict[str, Any]:
    session = session_of(request)
    return {"user": user, "session": session, **more}


def _set_cookie(request: Request, response: Response, session: Session) -> None:
    service = service_of(request)
    response.set_cookie(
        COOKIE,
        service.sessions.cookie(session),
        max_age=service.sessions.max_age_s,
        httponly=True,
        samesite="strict",
        secure=service.config.secure_cookies,
        path="/",
    )


def check_csrf(session: Session | None, token: str | None) -> Session:
    """The session, when ``token`` is its CSRF token; 403 otherwise."""
    if session is None or not session.csrf_matches(token):
        raise HTTPException(403, "the form's CSRF token is missing or wrong: reload the page")
    return session


# --------------------------------------------------------------------------- login


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request) -> Response:
    session = session_of(request)
    fresh = session is None
    if session is None:
        session = service_of(request).sessions.start(None)
    context = _context(request, user_of(request), error=None)
    context["session"] = session
    response = page("service/login.html.j2", **context)
    if fresh:
        _set_cookie(request, response, session)
    return response


@router.post("/login")
def login(
    request: Request,
    name: Annotated[str, Form(max_length=MAX_NAME)],
    password: Annotated[str, Form(max_length=MAX_PASSWORD)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    service = service_of(request)
    session = check_csrf(session_of(request), csrf_token)
    user = authenticate(service.config.users, name, password, passwords=service.config.passwords)
    if user is None:
        context = _context(request, None, error="Wrong user name or password.")
        return page("service/login.html.j2", status=401, **context)
    # A new session id at login: an id known before it never carries the user's rights.
    fresh = service.sessions.start(user.name, replacing=session)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(request, response, fresh)
    return response


@router.post("/logout")
def logout(request: Request, csrf_token: Annotated[str | None, Form()] = None) -> Response:
    session = check_csrf(session_of(request), csrf_token)
    service_of(request).sessions.end(session)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --------------------------------------------------------------------------- cases


def visible_cases(request: Request, user: User) -> list[tuple[CaseEntry, str]]:
    """The cases the user may open, with their names: a member only the cases that list it."""
    service = service_of(request)
    shown = []
    for entry in service.cases():
        if entry.kind != "case":
            if user.role is not Role.MEMBER:
                shown.append((entry, entry.id))
            continue
        run = service.runs.run(entry.path)
        if isinstance(run, Problems):
            if user.role is not Role.MEMBER:
                shown.append((entry, f"{entry.id} (invalid: {len(run.issues)} problems)"))
            continue
        if user.member is None or user.member in run.members:
            shown.append((entry, run.case.name))
    return shown


@router.get("/", response_class=HTMLResponse)
def home(request: Request, user: Anyone) -> Response:
    cases = visible_cases(request, user)
    return page("service/home.html.j2", **_context(request, user, cases=cases))


def case_run(request: Request, case_id: str) -> tuple[CaseEntry, CaseRun]:
    """The case's run; 404 for an unknown case or one that is not a waterfall case, 422 for
    an invalid one (with its problems)."""
    service = service_of(request)
    entry = service.case(case_id)
    if entry.kind != "case":
        raise HTTPException(404, f"{case_id!r} is a {entry.kind}, not a waterfall case")
    return entry, _valid(case_id, service.runs.run(entry.path))


def end_of_day(request: Request, entry: CaseEntry) -> EndOfDay:
    """The end of day of a risk case; 422 for an invalid one (with its problems)."""
    return _valid(entry.id, service_of(request).runs.end_of_day(entry.path))


def _valid(case_id: str, value: T | Problems) -> T:
    if isinstance(value, Problems):
        text = "; ".join(f"{issue.field}: {issue.message}" for issue in value.issues)
        raise HTTPException(422, f"{case_id} is not a valid case: {text}")
    return value


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str, user: Staff) -> Response:
    from ccpwaterfall.reports.charts import run_charts  # noqa: PLC0415
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415
    from ccpwaterfall.reports.run_view import run_view  # noqa: PLC0415

    entry = service_of(request).case(case_id)
    if entry.kind == "risk-case":
        return _end_of_day_page(request, user, entry)
    entry, run = case_run(request, case_id)
    view = run_view(run.result, None, journal=True)
    context = _context(
        request,
        user,
        entry=entry,
        view=view,
        charts=run_charts(view),
        draw=embed_drawer(),
        members=run.members,
    )
    return page("service/case.html.j2", **context)


def _end_of_day_page(request: Request, user: User, entry: CaseEntry) -> Response:
    from ccpwaterfall.reports.charts import end_of_day_charts  # noqa: PLC0415
    from ccpwaterfall.reports.eod_view import eod_view  # noqa: PLC0415
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415

    view = eod_view(end_of_day(request, entry), None, None)
    context = _context(
        request, user, entry=entry, view=view, charts=end_of_day_charts(view), draw=embed_drawer()
    )
    return page("service/end_of_day.html.j2", **context)


def simulation(request: Request, case_id: str) -> tuple[CaseEntry, Simulation]:
    """``ccp simulate`` on a risk case of the folder; 404 for anything else."""
    service = service_of(request)
    entry = service.case(case_id)
    if entry.kind != "risk-case":
        raise HTTPException(404, f"{case_id!r} is a {entry.kind}: only a risk case simulates")
    return entry, _valid(case_id, service.runs.simulation(entry.path))


@router.get("/cases/{case_id}/simulation", response_class=HTMLResponse)
def simulation_page(request: Request, case_id: str, user: Staff) -> Response:
    """Monte Carlo through the waterfall: tranche probabilities and what members pay."""
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415
    from ccpwaterfall.reports.simulation_view import simulation_view  # noqa: PLC0415
    from ccpwaterfall.service.views import simulation_charts  # noqa: PLC0415

    entry, run = simulation(request, case_id)
    view = simulation_view(run)
    context = _context(
        request,
        user,
        entry=entry,
        view=view,
        charts=simulation_charts(view),
        draw=embed_drawer(),
    )
    return page("service/simulation.html.j2", **context)


@router.get("/cases/{case_id}/members/{member}", response_class=HTMLResponse)
def liability_page(request: Request, case_id: str, member: str, user: Anyone) -> Response:
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415
    from ccpwaterfall.reports.liability_view import liability_view  # noqa: PLC0415
    from ccpwaterfall.service.views import liability_charts  # noqa: PLC0415

    allow_member(user, member)
    entry, run = case_run(request, case_id)
    liability = run.liability(member)
    if liability is None:
        raise HTTPException(404, f"{case_id} lists no member {member!r}")
    view = liability_view(liability)
    context = _context(
        request, user, entry=entry, view=view, charts=liability_charts(view), draw=embed_drawer()
    )
    return page("service/liability.html.j2", **context)


@router.get("/cases/{case_id}/report.{kind}")
def report(request: Request, case_id: str, kind: str, user: Staff) -> Response:
    """The case's report as ``ccp report`` writes it: HTML or PDF, charts embedded."""
    from ccpwaterfall.app.report import write_report  # noqa: PLC0415

    if kind not in REPORT_TYPES:
        raise HTTPException(404, f"no report format {kind!r}: html or pdf")
    entry = service_of(request).case(case_id)
    if entry.kind not in {"case", "risk-case"}:
        raise HTTPException(404, f"{case_id!r} is a {entry.kind}: no report")
    with tempfile.TemporaryDirectory(prefix="ccp-report-") as folder:
        target = Path(folder) / f"{entry.id}.{kind}"
        outcome = write_report(entry.path, target)
        if outcome.value is None:
            text = "; ".join(i.message for p in outcome.problems for i in p.issues)
            raise HTTPException(503 if kind == "pdf" else 422, text)
        data = target.read_bytes()
    return Response(
        data,
        media_type=REPORT_TYPES[kind],
        headers={"content-disposition": f'attachment; filename="{entry.id}.{kind}"'},
    )


# --------------------------------------------------------------------------- scripts


@cache
def _vega() -> bytes:
    from ccpwaterfall.reports.charts import chart_javascript  # noqa: PLC0415

    return chart_javascript().encode()


ASSET_HEADERS = {"cache-control": "public, max-age=86400"}


@router.get("/assets/vega.js")
def vega_script() -> Response:
    """Vega, Vega-Lite and Vega-Embed: the charts need no network."""
    return Response(_vega(), media_type="text/javascript", headers=ASSET_HEADERS)


#: Polls the live part of a page (``data-live``: the URL of its status) and redraws it from
#: the page at ``data-page`` when its version changes: the outcome of a drill appears without
#: a reload.
LIVE_SCRIPT = """\
(() => {
  const live = document.querySelector("[data-live]");
  if (!live) return;
  let version = live.dataset.version;
  async function tick() {
    try {
      const status = await fetch(live.dataset.live, {headers: {accept: "application/json"}});
      if (status.ok && String((await status.json()).version) !== version) {
        const page = await fetch(live.dataset.page, {headers: {accept: "text/html"}});
        const doc = new DOMParser().parseFromString(await page.text(), "text/html");
        const fresh = doc.querySelector("[data-live]");
        if (fresh) {
          live.innerHTML = fresh.innerHTML;
          version = fresh.dataset.version;
          live.dataset.version = version;
          live.querySelectorAll("[data-vega-lite]").forEach((element) => {
            const spec = JSON.parse(element.dataset.vegaLite);
            vegaEmbed(element, spec, {actions: false, renderer: "svg"});
          });
          const form = document.getElementById("bid-form");
          if (form && !doc.getElementById("bid-form")) form.remove();
        }
      }
    } catch (error) {
      // The service restarting or the network dropping: try again at the next tick.
    }
    window.setTimeout(tick, 1000);
  }
  window.setTimeout(tick, 1000);
})();
"""


@router.get("/assets/live.js")
def live_script() -> Response:
    """Redraws a live drill's page when the drill moves on."""
    return Response(LIVE_SCRIPT, media_type="text/javascript", headers=ASSET_HEADERS)


@router.get("/assets/charts.js")
def charts_script() -> Response:
    """Draws every chart a page left as a Vega-Lite placeholder."""
    from ccpwaterfall.reports.html import EMBED_SCRIPT  # noqa: PLC0415

    return Response(EMBED_SCRIPT, media_type="text/javascript", headers=ASSET_HEADERS)
