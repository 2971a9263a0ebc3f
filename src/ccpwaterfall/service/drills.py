"""The live fire drill: pages and API.

The risk team starts a drill from a drill file in the service's folder (the
margin call, the default, notices, isolation, porting and hedging run, and the
auction opens); members see their lots and send sealed bids until the
deadline; the risk team closes the auction; every page polls the drill's
version and redraws its live part when it changes, so everyone sees the
outcome appear without reloading. Every step goes through the live-drill use
cases (``app.service_drills``), which keep the events in the drill log.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from ccpwaterfall.app.outcome import Outcome
from ccpwaterfall.app.service_drills import LiveDrill
from ccpwaterfall.app.users import Role, User
from ccpwaterfall.service.application import (
    EVERYONE,
    Access,
    Service,
    page,
    service_of,
    session_of,
)
from ccpwaterfall.service.drill_views import member_drill
from ccpwaterfall.service.pages import check_csrf
from ccpwaterfall.service.sessions import CSRF_HEADER
from ccpwaterfall.store import DRILL, StoreError

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["drills"])

Anyone = Annotated[User, Depends(Access(EVERYONE))]
Risk = Annotated[User, Depends(Access(frozenset({Role.RISK})))]
Member = Annotated[User, Depends(Access(frozenset({Role.MEMBER})))]
DrillId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The live drill's id")]
MAX_FIELD = 200

REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "The user's role may not do this, or the CSRF token is wrong"},
    404: {"description": "No such drill"},
}


def _live(service: Service, drill_id: int) -> LiveDrill:
    """The stored drill; 404 for none, 409 when it cannot be shown (its file changed)."""
    try:
        saved = service.store.get(drill_id)
    except StoreError:
        raise HTTPException(404, f"no drill {drill_id}") from None
    if saved.kind != DRILL:
        raise HTTPException(404, f"saved result {drill_id} is a {saved.kind}, not a drill")
    outcome = service.drills.drill(drill_id)
    if outcome.value is None:
        raise HTTPException(409, _refusal_text(outcome))
    return outcome.value


def _members(live: LiveDrill) -> set[str]:
    return {m.id for m in live.state.plan.ccp.members}


def _visible(user: User, live: LiveDrill) -> None:
    """A member user sees only drills of a CCP it is a member of."""
    if user.role is Role.MEMBER and user.member not in _members(live):
        raise HTTPException(403, "this drill is not of your CCP")


def _drill_list(service: Service, user: User) -> list[dict[str, object]]:
    listed = []
    for drill_id, label in service.drills.drills():
        live = service.drills.drill(drill_id).value
        if live is None:  # its file changed or went: the page of the drill says so
            if user.role is not Role.MEMBER:
                listed.append({"id": drill_id, "drill": label, "phase": "unavailable"})
            continue
        if user.role is Role.MEMBER and user.member not in _members(live):
            continue
        listed.append({"id": drill_id, "drill": label, "phase": live.state.phase})
    return listed


def _refusal_text(outcome: Outcome[LiveDrill]) -> str:
    return "; ".join(
        issue.message.removeprefix("bid refused: ")
        for problems in outcome.problems
        for issue in problems.issues
    )


def _start(request: Request, file: str) -> LiveDrill:
    service = service_of(request)
    entry = service.case(file)
    if entry.kind != "drill":
        raise HTTPException(404, f"{file!r} is a {entry.kind}, not a drill file")
    outcome = service.drills.start(entry.path)
    if outcome.value is None:
        raise HTTPException(422, _refusal_text(outcome))
    return outcome.value


def _bid(request: Request, user: User, drill_id: int, lot: str, price: str) -> Outcome[LiveDrill]:
    service = service_of(request)
    live = _live(service, drill_id)
    _visible(user, live)
    assert user.member is not None
    return service.drills.bid(drill_id, user.member, lot, price)


def _refuse_other_member(user: User, member: str | None) -> None:
    """A member named in a form or body must be the user's own: the bid is the user's."""
    if member is not None and member != user.member:
        raise HTTPException(403, "a member bids only for itself")


# --------------------------------------------------------------------------- pages


@pages.get("/drills", response_class=HTMLResponse)
def drills_page(request: Request, user: Anyone) -> Response:
    service = service_of(request)
    files = [e for e in service.cases() if e.kind == "drill"] if user.role is Role.RISK else []
    return page(
        "service/drills.html.j2",
        user=user,
        session=session_of(request),
        drills=_drill_list(service, user),
        files=files,
    )


@pages.post("/drills")
def start_page(
    request: Request,
    user: Risk,
    file: Annotated[str, Form(max_length=MAX_FIELD)],
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(session_of(request), csrf_token)
    live = _start(request, file)
    return RedirectResponse(f"/drills/{live.id}", status_code=303)


@pages.get("/drills/{drill_id}", response_class=HTMLResponse)
def drill_page(request: Request, drill_id: DrillId, user: Anyone) -> Response:
    return _drill_page(request, user, drill_id)


def _drill_page(
    request: Request, user: User, drill_id: int, message: str | None = None, status: int = 200
) -> Response:
    from ccpwaterfall.reports.charts import run_charts, waterfall_chart  # noqa: PLC0415
    from ccpwaterfall.reports.drill_view import drill_view  # noqa: PLC0415
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415
    from ccpwaterfall.reports.run_view import run_view  # noqa: PLC0415

    service = service_of(request)
    live = _live(service, drill_id)
    _visible(user, live)
    context: dict[str, Any] = {
        "user": user,
        "session": session_of(request),
        "live": live,
        "message": message,
        "draw": embed_drawer(),
        "deadline": live.deadline,
    }
    outcome = live.state.outcome
    if user.role is Role.MEMBER:
        assert user.member is not None
        context["mine"] = member_drill(live, user.member, service.config.clock())
        waterfall = None
        if outcome is not None:
            waterfall = waterfall_chart(run_view(outcome.result, 0).events[0])
        context["waterfall"] = waterfall
        return page("service/drill_member.html.j2", status=status, **context)
    view = drill_view(live.state)
    context["view"] = view
    context["bids"] = [e for e in live.state.events if e.kind == "bid"]
    context["charts"] = None if view.waterfall is None else run_charts(view.waterfall)
    context["drill_time"] = live.drill_time(service.config.clock())
    return page("service/drill.html.j2", status=status, **context)


@pages.post("/drills/{drill_id}/bids")
def bid_page(
    request: Request,
    drill_id: DrillId,
    user: Member,
    lot: Annotated[str, Form(max_length=MAX_FIELD)],
    price: Annotated[str, Form(max_length=MAX_FIELD)],
    member: Annotated[str | None, Form(max_length=MAX_FIELD)] = None,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(session_of(request), csrf_token)
    _refuse_other_member(user, member)
    outcome = _bid(request, user, drill_id, lot, price)
    if outcome.value is None:
        return _drill_page(
            request, user, drill_id, f"Bid refused: {_refusal_text(outcome)}", status=409
        )
    return RedirectResponse(f"/drills/{drill_id}?bid={lot}", status_code=303)


@pages.post("/drills/{drill_id}/close")
def close_page(
    request: Request,
    drill_id: DrillId,
    user: Risk,
    csrf_token: Annotated[str | None, Form()] = None,
) -> Response:
    check_csrf(session_of(request), csrf_token)
    service = service_of(request)
    _live(service, drill_id)
    outcome = service.drills.close(drill_id)
    if outcome.value is None:
        return _drill_page(request, user, drill_id, _refusal_text(outcome), status=409)
    return RedirectResponse(f"/drills/{drill_id}", status_code=303)


# --------------------------------------------------------------------------- API


def _check_header(request: Request) -> None:
    check_csrf(session_of(request), request.headers.get(CSRF_HEADER))


class DrillItem(BaseModel):
    id: int
    drill: str
    phase: str


class DrillStatus(BaseModel):
    """What a page polls: it redraws when ``version`` changes."""

    id: int
    phase: str
    version: int


class StartIn(BaseModel):
    file: str = Field(max_length=MAX_FIELD, description="A drill file's id, as /api/cases lists")


class BidIn(BaseModel):
    lot: str = Field(max_length=MAX_FIELD)
    price: str = Field(
        max_length=MAX_FIELD,
        description="What the member pays for the lot, a decimal string in the drill's currency",
    )
    member: str | None = Field(
        default=None, max_length=MAX_FIELD, description="If given, the user's own member"
    )


@api.get("/drills", responses=REFUSALS)
def list_drills(request: Request, user: Anyone) -> list[DrillItem]:
    """The live drills; a member user gets those of its CCP."""
    return [DrillItem.model_validate(d) for d in _drill_list(service_of(request), user)]


@api.post("/drills", status_code=201, responses={**REFUSALS, 422: {"description": "Bad file"}})
def start(request: Request, body: StartIn, user: Risk) -> DrillStatus:
    """Start a drill from a drill file of the service's folder (risk only; send the session's
    CSRF token in ``X-CSRF-Token``)."""
    _check_header(request)
    live = _start(request, body.file)
    return DrillStatus(id=live.id, phase=live.state.phase, version=live.version)


@api.get("/drills/{drill_id}", responses=REFUSALS)
def drill_document(request: Request, drill_id: DrillId, user: Anyone) -> dict[str, Any]:
    """The drill's whole record (``ccp-drill-record/1``) for the risk team and the regulator;
    a member user's own view (``ccp-member-drill/1``)."""
    service = service_of(request)
    live = _live(service, drill_id)
    _visible(user, live)
    if user.role is Role.MEMBER:
        assert user.member is not None
        return member_drill(live, user.member, service.config.clock()).to_json()
    return live.state.record() | {"id": live.id, "version": live.version}


@api.get("/drills/{drill_id}/status", responses=REFUSALS)
def drill_status(request: Request, drill_id: DrillId, user: Anyone) -> DrillStatus:
    """The drill's phase and version, for pages to poll."""
    live = _live(service_of(request), drill_id)
    _visible(user, live)
    return DrillStatus(id=live.id, phase=live.state.phase, version=live.version)


@api.post(
    "/drills/{drill_id}/bids",
    status_code=201,
    responses={**REFUSALS, 409: {"description": "The auction refused the bid, with its reason"}},
)
def bid(request: Request, drill_id: DrillId, body: BidIn, user: Member) -> Response:
    """A sealed bid of the user's member (send the session's CSRF token in ``X-CSRF-Token``);
    409 with the auction's reason when refused (closed, late, unknown lot, a second bid)."""
    _check_header(request)
    _refuse_other_member(user, body.member)
    outcome = _bid(request, user, drill_id, body.lot, body.price)
    if outcome.value is None:
        return JSONResponse({"detail": _refusal_text(outcome)}, status_code=409)
    live = outcome.value
    sequence = live.state.events[-1].sequence
    return JSONResponse(
        {"id": live.id, "sequence": sequence, "lot": body.lot, "version": live.version},
        status_code=201,
    )


@api.post(
    "/drills/{drill_id}/close",
    responses={**REFUSALS, 409: {"description": "Already closed"}},
)
def close(request: Request, drill_id: DrillId, user: Risk) -> Response:
    """Close the auction (risk only; CSRF token in ``X-CSRF-Token``)."""
    _check_header(request)
    service = service_of(request)
    _live(service, drill_id)
    outcome = service.drills.close(drill_id)
    if outcome.value is None:
        return JSONResponse({"detail": _refusal_text(outcome)}, status_code=409)
    live = outcome.value
    return JSONResponse({"id": live.id, "phase": live.state.phase, "version": live.version})
