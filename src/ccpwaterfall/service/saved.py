"""Saved runs and end-of-days (``--save``): the store's history, each saved result, the change
of an end of day against the previous stored day of its case, and a member's own history.

The risk team and the regulator see every member's figures; a member user sees the same
pages with its own row only, and its own history: its margin and contribution in each
stored end of day, and what it paid in each stored run and drill.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ccpwaterfall.app import store as stored
from ccpwaterfall.app.users import Role, User
from ccpwaterfall.domain import Currency, Money, currency
from ccpwaterfall.reports.charts import MemberAmountsChart, TrancheSegment, WaterfallChart
from ccpwaterfall.reports.history_view import KIND_NAMES, MEASURE_TITLES, MEASURES, SavedResult
from ccpwaterfall.service.application import (
    EVERYONE,
    Access,
    Service,
    allow_member,
    page,
    service_of,
    session_of,
)
from ccpwaterfall.store import DRILL, EOD, RUN, Saved

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api", tags=["saved"])

Anyone = Annotated[User, Depends(Access(EVERYONE))]
SaveId = Annotated[int, Path(ge=1, le=2**31 - 1, description="A saved result's id")]
MemberId = Annotated[str, Path(max_length=200, description="A clearing member's id")]
CHART_MEASURE = {EOD: "initial_margin", RUN: "fund_charges"}  # each kind's chart
REFUSALS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Not logged in"},
    403: {"description": "The user's role may not see this"},
    404: {"description": "No such saved run or end of day"},
}


def _listed(service: Service, user: User) -> list[Saved]:
    """Saved runs and end-of-days, newest first; drills too for the risk team and the
    regulator (a member finds the drills of its CCP under /drills)."""
    kinds = {RUN, EOD} if user.role is Role.MEMBER else {RUN, EOD, DRILL}
    return [saved for saved in service.store.history() if saved.kind in kinds]


def _result(service: Service, save_id: int) -> SavedResult:
    shown = stored.show(service.store, save_id)
    if shown.value is None or shown.value.saved.kind == DRILL:
        raise HTTPException(404, f"no saved run or end of day {save_id}")
    return shown.value


def _previous(service: Service, saved: Saved) -> Saved | None:
    """The end of day stored before this one in its case's series."""
    earlier = [
        s
        for s in service.store.history()
        if s.kind == EOD and s.chain == saved.chain and s.first_sequence < saved.first_sequence
    ]
    return max(earlier, key=lambda s: s.first_sequence, default=None)


def _own(user: User, rows: Mapping[str, Any]) -> dict[str, Any]:
    """The members' rows the user may see: its own only for a member user."""
    return {m: f for m, f in rows.items() if user.sees_member(m)}


def saved_view(service: Service, user: User, save_id: int) -> dict[str, Any]:
    """A saved run or end of day as data: its members' figures (the user's own for a member
    user) and, for an end of day, each figure's change against the previous stored day."""
    result = _result(service, save_id)
    saved = result.saved
    view: dict[str, Any] = {
        "format": "ccp-saved-view/1",
        "id": saved.id,
        "kind": saved.kind,
        "label": saved.label,
        "saved_at": saved.saved_at,
        "business_date": saved.business_date,
        "currency": result.currency(),
        "members": _own(user, result.members()),
        "previous": None,
        "changes": None,
    }
    view["headline"] = _headline(result.document("snapshot"))
    view["drills"] = _drills(result.document("snapshot")) if user.role is not Role.MEMBER else []
    view["events"] = _events(result.document("result"))
    view["journal"] = (
        [r.value() for r in result.records if r.kind == "journal_entry"]
        if user.role is not Role.MEMBER
        else []
    )
    previous = _previous(service, saved) if saved.kind == EOD else None
    if previous is not None:
        before = _result(service, previous.id)
        earlier = {label: value for label, value, _, _ in _headline(before.document("snapshot"))}
        view["headline"] = [
            (label, value, earlier.get(label), _change(earlier.get(label), value))
            for label, value, _, _ in view["headline"]
        ]
        diff = stored.diff(service.store, previous.id, saved.id)
        if diff.value is not None:
            view["previous"] = {"id": previous.id, "business_date": previous.business_date}
            changes = {
                member: {m: c.change for m, c in figures.items()}
                for member, figures in diff.value.members
            }
            view["changes"] = _own(user, changes)
    return view


def _at(document: Mapping[str, Any] | None, *path: str) -> str | None:
    value: Any = document
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return None if value is None else str(value)


def _headline(snapshot: Mapping[str, Any] | None) -> list[tuple[str, str | None, None, None]]:
    """An end of day's figures for the whole CCP: total margin, Cover-1, Cover-2, the fund."""
    if snapshot is None:
        return []
    return [
        ("Total initial margin", _at(snapshot, "margin", "total"), None, None),
        ("Cover-1", _at(snapshot, "stress", "cover1", "amount"), None, None),
        ("Cover-2", _at(snapshot, "stress", "cover2", "amount"), None, None),
        ("Default fund", _at(snapshot, "fund", "fund"), None, None),
    ]


def _change(before: str | None, after: str | None) -> str | None:
    if before is None or after is None:
        return None
    return format(Decimal(after) - Decimal(before), "f")


def _drills(snapshot: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """An end of day's default drills: each stress scenario's Cover-N groups defaulting."""
    fund = snapshot.get("fund") if snapshot is not None else None
    drills = fund.get("drills") if isinstance(fund, Mapping) else None
    return [d for d in drills if isinstance(d, Mapping)] if isinstance(drills, list) else []


def _events(result: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    """A saved run's events (``ccp-result/1``): date, defaulters, loss, tranches, uncovered;
    the members' charges are in the members' rows."""
    events = result.get("events") if result is not None else None
    if not isinstance(events, list):
        return []
    keys = ("date", "defaulters", "loss", "tranches", "uncovered")
    return [{k: e.get(k) for k in keys} for e in events if isinstance(e, Mapping)]


def member_history(service: Service, member: str) -> dict[str, Any]:
    """A member's figures in every stored end of day (margin, contribution, stress loss) and
    what it paid in every stored run and drill, oldest first."""
    days: list[dict[str, Any]] = []
    paid: list[dict[str, Any]] = []
    for saved in reversed(service.store.history()):
        if saved.kind == DRILL:
            for event in service.store.events(saved.id):
                payload = event.get("payload")
                if (
                    event.get("kind") == "statement"
                    and isinstance(payload, dict)
                    and payload.get("member") == member
                ):
                    amount = str(payload.get("paid", "0"))
                    paid.append(_paid(saved, amount, f"/drills/{saved.id}"))
            continue
        shown = stored.show(service.store, saved.id).value
        if shown is None:
            continue
        figures = shown.members().get(member)
        if figures is None:
            continue
        if saved.kind == EOD:
            days.append(
                {
                    "id": saved.id,
                    "label": saved.label,
                    "business_date": saved.business_date,
                    "currency": shown.currency(),
                    **{
                        m: figures.get(m) for m in ("initial_margin", "contribution", "stress_loss")
                    },
                }
            )
        else:
            paid.append(_paid(saved, figures.get("fund_charges", "0"), f"/saved/{saved.id}"))
    return {"format": "ccp-member-history/1", "member": member, "days": days, "paid": paid}


def _paid(saved: Saved, amount: str, href: str) -> dict[str, Any]:
    return {
        "id": saved.id,
        "kind": KIND_NAMES.get(saved.kind, saved.kind),
        "label": saved.label,
        "paid": amount,
        "href": href,
    }


def _money(value: object, ccy: Currency) -> Money:
    try:
        return Money.of(Decimal(str(value)), ccy)
    except (ArithmeticError, ValueError):
        return Money.zero(ccy)


def _ccy(code: object) -> Currency | None:
    try:
        return currency(str(code))
    except ValueError:
        return None


def _waterfalls(view: Mapping[str, Any], ccy: Currency) -> list[WaterfallChart]:
    charts = []
    for number, event in enumerate(view["events"], start=1):
        tranches = event.get("tranches") or []
        charts.append(
            WaterfallChart(
                f"Event {number} of {len(view['events'])} · {event.get('date') or 'undated'}",
                ccy,
                tuple(
                    TrancheSegment(
                        order,
                        str(t.get("name")),
                        str(t.get("kind")),
                        _money(t.get("available"), ccy),
                        _money(t.get("used"), ccy),
                    )
                    for order, t in enumerate(tranches, start=1)
                ),
                _money(event.get("uncovered") or "0", ccy),
            )
        )
    return charts


def _saved_charts(view: Mapping[str, Any]) -> list[MemberAmountsChart | WaterfallChart]:
    measure = CHART_MEASURE.get(str(view["kind"]))
    ccy = _ccy(view["currency"])
    if measure is None or ccy is None:
        return []
    waterfalls: list[MemberAmountsChart | WaterfallChart] = list(_waterfalls(view, ccy))
    if not view["members"]:
        return waterfalls
    amounts = sorted(
        ((m, _money(f.get(measure, "0"), ccy)) for m, f in view["members"].items()),
        key=lambda item: (-item[1].minor_units, item[0]),
    )
    name = MEASURE_TITLES.get(measure, measure)
    title = f"{name} by member ({ccy.code})"
    chart = MemberAmountsChart(title, str(view["label"]), ccy, name, tuple(amounts[:15]), None)
    return [*waterfalls, chart]


def _history_charts(history: Mapping[str, Any]) -> list[MemberAmountsChart]:
    days = history["days"]
    codes = {d["currency"] for d in days}
    ccy = _ccy(next(iter(codes))) if len(codes) == 1 else None
    if ccy is None:
        return []
    charts = []
    for measure in ("initial_margin", "contribution"):
        amounts = tuple((str(d["business_date"]), _money(d[measure], ccy)) for d in days)
        name = MEASURE_TITLES.get(measure, measure)
        title = f"{history['member']}: {name.lower()} by day ({ccy.code})"
        charts.append(MemberAmountsChart(title, "stored end-of-days", ccy, name, amounts, None))
    return charts


# --------------------------------------------------------------------------- pages


@pages.get("/saved", response_class=HTMLResponse)
def saved_list_page(request: Request, user: Anyone) -> Response:
    service = service_of(request)
    return page(
        "service/saved_list.html.j2",
        user=user,
        session=session_of(request),
        saves=_listed(service, user),
        kinds=KIND_NAMES,
    )


@pages.get("/saved/{save_id}", response_class=HTMLResponse)
def saved_page(request: Request, save_id: SaveId, user: Anyone) -> Response:
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415

    service = service_of(request)
    if save_id in {s.id for s in service.store.history() if s.kind == DRILL}:
        return RedirectResponse(f"/drills/{save_id}", status_code=303)
    view = saved_view(service, user, save_id)
    present = {k for figures in view["members"].values() for k in figures}
    return page(
        "service/saved.html.j2",
        user=user,
        session=session_of(request),
        view=view,
        kind_name=KIND_NAMES.get(view["kind"], view["kind"]),
        measures=[m for m in MEASURES if m in present],
        names=MEASURE_TITLES,
        charts=_saved_charts(view),
        draw=embed_drawer(),
    )


@pages.get("/members/{member}/history", response_class=HTMLResponse)
def history_page(request: Request, member: MemberId, user: Anyone) -> Response:
    from ccpwaterfall.reports.html import embed_drawer  # noqa: PLC0415

    allow_member(user, member)
    history = member_history(service_of(request), member)
    return page(
        "service/member_history.html.j2",
        user=user,
        session=session_of(request),
        member=member,
        days=history["days"],
        paid=history["paid"],
        charts=_history_charts(history),
        draw=embed_drawer(),
    )


# --------------------------------------------------------------------------- API


@api.get("/saved", responses=REFUSALS)
def saved_list(request: Request, user: Anyone) -> list[dict[str, Any]]:
    """Saved runs and end-of-days (and drills, for the risk team and the regulator), newest
    first, as ``ccp history --json`` lists them."""
    return [saved.to_json() for saved in _listed(service_of(request), user)]


@api.get("/saved/{save_id}", responses=REFUSALS)
def saved_document(request: Request, save_id: SaveId, user: Anyone) -> dict[str, Any]:
    """A saved run or end of day: each member's figures (a member user's own only) and, for an
    end of day, their change against the previous stored day of its case."""
    return saved_view(service_of(request), user, save_id)


@api.get("/members/{member}/history", responses=REFUSALS)
def history(request: Request, member: MemberId, user: Anyone) -> dict[str, Any]:
    """A member's margin and contribution in each stored end of day, and what it paid in each
    stored run and drill; a member user only its own."""
    allow_member(user, member)
    return member_history(service_of(request), member)
