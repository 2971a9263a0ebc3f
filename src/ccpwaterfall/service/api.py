"""The JSON API: what the pages show, as the documents ``ccp ... --json`` prints.

Same role rules as the pages; a request without a session gets 401. Money is
a decimal string in the currency's minor unit, as in every JSON document.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from pydantic import BaseModel

from ccpwaterfall.app.users import User
from ccpwaterfall.service.application import (
    EVERYONE,
    STAFF,
    Access,
    allow_member,
    service_of,
    session_of,
)
from ccpwaterfall.service.pages import case_run, end_of_day, simulation, visible_cases

router = APIRouter(prefix="/api", tags=["api"])

Anyone = Annotated[User, Depends(Access(EVERYONE))]
Staff = Annotated[User, Depends(Access(STAFF))]
CaseId = Annotated[str, Path(max_length=200, description="The case's id, as /api/cases lists it")]
MemberId = Annotated[str, Path(max_length=200, description="A clearing member's id")]

UNAUTHORISED: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "The user's role may not see this"},
}
MISSING: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such case or member"},
    422: {"description": "The case file is invalid"},
}


class Me(BaseModel):
    """The user logged in, and the session's CSRF token for the API's writes."""

    name: str
    role: str
    member: str | None
    csrf_token: str


class CaseItem(BaseModel):
    """A case the user may open."""

    id: str
    kind: str
    name: str


@router.get("/me", responses=UNAUTHORISED)
def me(request: Request, user: Anyone) -> Me:
    """The user logged in: name, role and, for a member user, its member; and the CSRF token
    that writes send in ``X-CSRF-Token``."""
    session = session_of(request)
    assert session is not None
    return Me(name=user.name, role=user.role.value, member=user.member, csrf_token=session.csrf)


@router.get("/cases", responses=UNAUTHORISED)
def cases(request: Request, user: Anyone) -> list[CaseItem]:
    """The cases in the service's folder; a member user gets those that list its member."""
    return [
        CaseItem(id=entry.id, kind=entry.kind, name=name)
        for entry, name in visible_cases(request, user)
    ]


@router.get("/cases/{case_id}", responses={**UNAUTHORISED, **MISSING})
def case_result(request: Request, case_id: CaseId, user: Staff) -> dict[str, Any]:
    """The case's run as ``ccp run --json --journal`` gives it (``ccp-result/1``); a risk
    case's end of day as ``ccp eod --json`` gives it."""
    from ccpwaterfall.reports.run_view import run_to_json, run_view  # noqa: PLC0415

    entry = service_of(request).case(case_id)
    if entry.kind == "risk-case":
        from ccpwaterfall.reports.eod_view import end_of_day_to_json, eod_view  # noqa: PLC0415

        return end_of_day_to_json(eod_view(end_of_day(request, entry)))
    _, run = case_run(request, case_id)
    return run_to_json(run_view(run.result, None, journal=True))


@router.get("/cases/{case_id}/members/{member}/liability", responses={**UNAUTHORISED, **MISSING})
def liability(request: Request, case_id: CaseId, member: MemberId, user: Anyone) -> dict[str, Any]:
    """A member's liability as ``ccp liability --json`` gives it (``ccp-liability/1``); a
    member user only its own."""
    from ccpwaterfall.reports.liability_view import liability_to_json, liability_view  # noqa: PLC0415

    allow_member(user, member)
    _, run = case_run(request, case_id)
    found = run.liability(member)
    if found is None:
        raise HTTPException(404, f"{case_id} lists no member {member!r}")
    return liability_to_json(liability_view(found))


@router.get("/cases/{case_id}/simulation", responses={**UNAUTHORISED, **MISSING})
def simulation_document(request: Request, case_id: CaseId, user: Staff) -> dict[str, Any]:
    """A risk case's Monte Carlo through the waterfall, as ``ccp simulate --json`` gives it
    (the case's settings, seed 0)."""
    from ccpwaterfall.reports.simulation_view import (  # noqa: PLC0415
        simulation_to_json,
        simulation_view,
    )

    _, run = simulation(request, case_id)
    return simulation_to_json(simulation_view(run))
