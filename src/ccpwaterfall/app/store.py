"""Use cases on the store: save, history, show, diff, export, verify, the schema upgrade,
and the drills people drive (start, bid, close, status), which a web service calls as
the command line does.

Each takes plain values and returns an ``Outcome`` (or a plain value where nothing
can go wrong with the input). A database that cannot be used (a bad URL, no
server, a schema newer than this version knows) is a problem with ``--db``,
reported with exit status 2 before anything is written.

What is saved is the JSON the commands print: ``ccp run --json --journal`` split
into the case as given, the result and the journal entry by entry; ``ccp eod
--json`` with a ``members`` table (margin, contribution, stress loss and fund
charges per member), which is what ``diff`` compares; a drill's plan (its file's
text and SHA-256) and every event as it happens.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import json
import os
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.io import Issue
from ccpwaterfall.io.files import write_text
from ccpwaterfall.reports.diff_view import Diff, member_diff
from ccpwaterfall.reports.history_view import SavedResult, run_member_figures
from ccpwaterfall.reports.run_view import run_to_json, run_view
from ccpwaterfall.store import (
    DRILL,
    EOD,
    RUN,
    Document,
    Saved,
    SequenceTakenError,
    Store,
    StoreError,
    Verification,
    database_url,
    open_store,
    shown_url,
)
from ccpwaterfall.store.database import DATABASE_ENV, SCHEMA_HEAD
from ccpwaterfall.store.source import case_source

if TYPE_CHECKING:
    from ccpwaterfall.lifecycle import EndOfDay
    from ccpwaterfall.lifecycle.drill import DrillState
    from ccpwaterfall.waterfall import CaseResult


def open_database(db: str | None) -> Outcome[Store]:
    """The store at ``db`` (else ``CCP_DATABASE_URL``, else the default SQLite file),
    upgraded to this version's schema; a problem with ``--db`` when it cannot be used."""
    url = database_url(db)
    default = not db and not os.environ.get(DATABASE_ENV)
    try:
        return done(open_store(url, make_folder=default))
    except StoreError as error:
        return refused(database_problem(url, error))


def database_problem(url: str, error: StoreError) -> Problems:
    shown = shown_url(url)
    return problems_in(shown, (Issue(shown, "", str(error)),))


def upgrade(db: str | None) -> Outcome[str]:
    """Create or upgrade the schema (``ccp db upgrade``): the version it is at now."""
    opened = open_database(db)
    if opened.value is None:
        return refused(*opened.problems)
    opened.value.close()
    return done(SCHEMA_HEAD)


# --------------------------------------------------------------------------- saving


def run_documents(case_path: Path, result: CaseResult) -> list[Document]:
    """A run as records: the case as given, the result, then the journal entry by entry."""
    view = run_view(result, None, journal=True)
    document = run_to_json(view)
    journal = document.pop("journal")
    assert isinstance(journal, list)
    return [
        Document("case", case_source(case_path).to_json()),
        Document("result", document),
        *(Document("journal_entry", entry) for entry in journal),
    ]


@contextmanager
def _without_gc_pauses() -> Iterator[None]:
    """Hold the cyclic garbage collector while the documents are built and written.

    They are tens of thousands of small dicts, freed by reference counting; each
    collection they would set off walks the whole heap, the run's result included,
    which once cost more than the save itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def save_run(store: Store, case_path: Path, result: CaseResult) -> Saved:
    """Save a run of ``case_path``: all of it in one transaction."""
    with _without_gc_pauses():
        return store.save_run(result.case.name, run_documents(case_path, result))


def end_of_day_document(
    case_path: Path, eod: EndOfDay, business_date: dt.date
) -> dict[str, object]:
    """The end of day as ``ccp eod --json`` gives it, with its business date, the risk
    case as given (``case_file``: its text and SHA-256) and a ``members`` table of what
    ``diff`` compares."""
    # Imported here: the end of day's arrays load numpy, which reading saved results never needs.
    from ccpwaterfall.lifecycle.border import to_money  # noqa: PLC0415
    from ccpwaterfall.reports.eod_view import end_of_day_to_json, eod_view  # noqa: PLC0415

    document = end_of_day_to_json(eod_view(eod, None, None))
    inputs = eod.inputs
    portfolio = inputs.portfolio
    margin = document["margin"]
    fund = document["fund"]
    assert isinstance(margin, dict)
    assert isinstance(fund, dict)
    contributions = fund["contributions"]
    assert isinstance(contributions, dict)
    worst = document["worst_drill"]
    assert isinstance(worst, dict)
    charges = run_member_figures(worst["result"])
    stress_loss = eod.stress.member_exposures.max(axis=1, initial=0.0)
    members: dict[str, dict[str, object]] = {}
    for row in margin["members"]:
        members[row["id"]] = {"group": row["group"], "initial_margin": row["initial_margin"]}
    for index, member in enumerate(portfolio.member_ids):
        group = portfolio.group_ids[int(portfolio.member_group[index])]
        figures = members.setdefault(member, {"group": group})
        figures["contribution"] = contributions.get(member, "0.00")
        figures["stress_loss"] = _amount(to_money(float(stress_loss[index]), inputs.currency))
        figures["fund_charges"] = charges.get(member, {}).get("fund_charges", "0.00")
    return {
        "business_date": business_date.isoformat(),
        **document,
        "case_file": case_source(case_path).to_json(),
        "members": members,
    }


def save_end_of_day(store: Store, case_path: Path, eod: EndOfDay, business_date: dt.date) -> Saved:
    """Append the end of day of ``business_date`` to its case's series."""
    with _without_gc_pauses():
        document = end_of_day_document(case_path, eod, business_date)
        snapshot = Document("snapshot", document)
        return store.save_end_of_day(str(document["case"]), business_date.isoformat(), snapshot)


def _amount(money: object) -> str:
    return format(money.amount, "f")  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- reading back


def history(store: Store, limit: int | None = None) -> list[Saved]:
    """Runs, end-of-days and drills, newest first."""
    return store.history(limit)


def show(store: Store, save_id: int) -> Outcome[SavedResult]:
    """A saved result with every record it wrote."""
    try:
        return done(SavedResult(store.get(save_id), tuple(store.records_of(save_id))))
    except StoreError as error:
        return refused(_id_problem(save_id, error))


def _id_problem(save_id: int | str, error: StoreError) -> Problems:
    return problems_in("ID", (Issue("ID", str(save_id), str(error)),))


def diff(store: Store, before_id: int, after_id: int) -> Outcome[Diff]:
    """Per member, the figures of two saved results side by side and their change."""
    results = []
    for save_id in (before_id, after_id):
        shown = show(store, save_id)
        if shown.value is None:
            return refused(*shown.problems)
        if shown.value.saved.kind == DRILL:
            issue = Issue("ID", str(save_id), "a drill has no member figures to compare")
            return refused(problems_in("ID", (issue,)))
        results.append(shown.value)
    currencies = {c for r in results if (c := r.currency()) is not None}
    if len(currencies) > 1:
        issue = Issue(
            "ID",
            f"{before_id} {after_id}",
            f"the two results are in different currencies ({', '.join(sorted(currencies))}): "
            "their figures cannot be compared",
        )
        return refused(problems_in("ID", (issue,)))
    return done(member_diff(results[0], results[1]))


def diff_dates(store: Store, before: dt.date, after: dt.date) -> Outcome[Diff]:
    """The end-of-day snapshots saved for two business dates compared (the latest of each)."""
    ids = []
    for day in (before, after):
        found = store.end_of_days_on(day.isoformat())
        if not found:
            issue = Issue("--date", day.isoformat(), "no end of day was saved for this date")
            return refused(problems_in("--date", (issue,)))
        labels = {saved.label for saved in found}
        if len(labels) > 1:
            issue = Issue(
                "--date",
                day.isoformat(),
                f"end-of-days of {len(labels)} cases were saved for this date: compare by ID "
                "(ccp history lists them)",
            )
            return refused(problems_in("--date", (issue,)))
        ids.append(found[0].id)
    return diff(store, ids[0], ids[1])


def verify(store: Store, save_id: int | None = None) -> Outcome[Verification]:
    """Recompute every hash chain (or the one holding ``save_id``)."""
    try:
        return done(store.verify(save_id))
    except StoreError as error:
        return refused(_id_problem(save_id or "", error))


# --------------------------------------------------------------------------- export


def export_csv(
    store: Store, save_id: int, folder: Path, *, force: bool = False
) -> Outcome[tuple[Path, ...]]:
    """Write a saved result's tables as CSV files in ``folder``: all of them or none."""
    shown = show(store, save_id)
    if shown.value is None:
        return refused(*shown.problems)
    tables = csv_tables(shown.value)
    if not folder.is_dir():
        issue = Issue(str(folder), "", "is not a folder")
        return refused(problems_in(folder, (issue,)))
    targets = [folder / name for name in tables]
    existing = [path for path in targets if path.exists() and not force]
    if existing:
        issues = [Issue(str(p), "", "already exists: use --force to replace it") for p in existing]
        return refused(problems_in(folder, issues))
    problems = []
    for path, text in zip(targets, tables.values(), strict=True):
        refusal = write_text(path, text, force=force)
        if refusal is not None:
            problems.append(refusal)
    if problems:
        return refused(problems_in(folder, problems))
    return done(tuple(targets))


def csv_tables(result: SavedResult) -> dict[str, str]:
    """A saved result's tables as CSV texts, by file name."""
    kind = result.saved.kind
    if kind == RUN:
        return _run_tables(result)
    if kind == EOD:
        return _eod_tables(result)
    events = [r.value() for r in result.records if r.kind == "event"]
    return {
        "events.csv": _csv(
            ("sequence", "kind", "at", "payload"),
            (
                (e.get("sequence"), e.get("kind"), e.get("at"), json.dumps(e.get("payload")))
                for e in events
            ),
        )
    }


def _run_tables(result: SavedResult) -> dict[str, str]:
    document = result.document("result") or {}
    events = document.get("events", [])
    assert isinstance(events, list)
    journal = [r.value() for r in result.records if r.kind == "journal_entry"]
    return {
        "events.csv": _csv(
            ("event", "date", "defaulters", "loss"),
            (
                (i + 1, e.get("date"), " ".join(e.get("defaulters", [])), e.get("loss"))
                for i, e in enumerate(events)
            ),
        ),
        "tranches.csv": _csv(
            ("event", "kind", "name", "available", "used", "remaining"),
            (
                (i + 1, t["kind"], t["name"], t["available"], t["used"], t["remaining"])
                for i, e in enumerate(events)
                for t in e.get("tranches", [])
            ),
        ),
        "members.csv": _csv(
            ("event", "member", "default_fund", "assessment", "vm_haircut", "total"),
            (
                (i + 1, m, c["default_fund"], c["assessment"], c["vm_haircut"], c["total"])
                for i, e in enumerate(events)
                for m, c in e.get("members", {}).items()
            ),
        ),
        "journal.csv": _csv(
            ("seq", "event", "kind", "account", "amount"),
            (
                (j.get("seq"), j.get("event"), j.get("kind"), p["account"], p["amount"])
                for j in journal
                for p in j.get("postings", [])  # type: ignore[attr-defined]
            ),
        ),
    }


def _eod_tables(result: SavedResult) -> dict[str, str]:
    snapshot = result.document("snapshot") or {}
    margin = snapshot.get("margin", {})
    stress = snapshot.get("stress", {})
    assert isinstance(margin, dict)
    assert isinstance(stress, dict)
    members = result.members()
    groups = snapshot.get("members", {})
    assert isinstance(groups, dict)
    return {
        "members.csv": _csv(
            ("member", "group", "initial_margin", "contribution", "stress_loss", "fund_charges"),
            (
                (
                    m,
                    groups.get(m, {}).get("group"),
                    f.get("initial_margin"),
                    f.get("contribution"),
                    f.get("stress_loss"),
                    f.get("fund_charges"),
                )
                for m, f in sorted(members.items())
            ),
        ),
        "accounts.csv": _csv(
            ("account", "member", "kind", "initial_margin"),
            (
                (a, v["member"], v["kind"], v["initial_margin"])
                for a, v in margin.get("accounts", {}).items()
            ),
        ),
        "stress_scenarios.csv": _csv(
            ("scenario", "two_largest", "all_groups"),
            ((s["name"], s["two_largest"], s["all_groups"]) for s in stress.get("scenarios", [])),
        ),
    }


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return buffer.getvalue()


# --------------------------------------------------------------------------- drills people drive

_BID_ATTEMPTS = 100  # bids that lost the race re-read the drill and go again


@dataclass(frozen=True, slots=True, eq=False)
class StoredDrill:
    """A stored drill: its save, and its state rebuilt from the stored events."""

    saved: Saved
    state: DrillState


def start_drill(store: Store, path: Path) -> Outcome[StoredDrill]:
    """Store a drill and run it up to its auction: margin call, default, porting, hedging,
    the auction opened. Its plan (the drill file's text and SHA-256) and every event are
    stored in one transaction."""
    from ccpwaterfall.app.drill import load_plan  # noqa: PLC0415
    from ccpwaterfall.lifecycle.drill import open_drill  # noqa: PLC0415

    plan = load_plan(path)
    if isinstance(plan, Problems):
        return refused(plan)
    state = open_drill(plan)
    source = case_source(path)
    record = {"drill_file": str(path.resolve()), "sha256": source.sha256, "text": source.text}
    saved = store.create_drill(plan.name, record, [e.to_json() for e in state.events])
    return done(StoredDrill(saved, state))


def drill_status(store: Store, drill_id: int) -> Outcome[StoredDrill]:
    """A stored drill's state, replayed from its events (the drill file must be unchanged)."""
    loaded = _stored_drill(store, drill_id)
    if isinstance(loaded, Problems):
        return refused(loaded)
    return done(loaded)


def bid(
    store: Store, drill_id: int, member: str, lot: str, price: str, at: dt.datetime
) -> Outcome[StoredDrill]:
    """Record a sealed bid; refused (with the reason) after the auction closes, from the
    defaulter, for an unknown member or lot, or after the deadline."""
    from ccpwaterfall.domain import Money  # noqa: PLC0415
    from ccpwaterfall.lifecycle.drill import BidRefused, submit_bid  # noqa: PLC0415

    for _ in range(_BID_ATTEMPTS):
        loaded = _stored_drill(store, drill_id)
        if isinstance(loaded, Problems):
            return refused(loaded)
        try:
            amount = Money.of(price, loaded.state.currency)
        except (ArithmeticError, ValueError):
            return refused(_option_problem("--price", price, "not an amount"))
        try:
            state = submit_bid(loaded.state, member, lot, amount, at)
        except BidRefused as refusal:
            return refused(_option_problem("--member", member, f"bid refused: {refusal.reason}"))
        appended = _append_new(store, drill_id, loaded.state, state)
        if appended:
            return done(StoredDrill(loaded.saved, state))
    return refused(_option_problem("ID", str(drill_id), "the drill is too busy: try again"))


def close_drill(store: Store, drill_id: int, at: dt.datetime | None = None) -> Outcome[StoredDrill]:
    """Close the auction and run the rest: rounds, fallback, loss, waterfall, statements.

    Without ``at`` the auction closes at its last deadline (or at its last event, if
    later), as the batch ``ccp drill`` does.
    """
    from ccpwaterfall.lifecycle.drill import close_auction  # noqa: PLC0415

    for _ in range(_BID_ATTEMPTS):
        loaded = _stored_drill(store, drill_id)
        if isinstance(loaded, Problems):
            return refused(loaded)
        before = loaded.state
        if before.phase != "open":
            return refused(_option_problem("ID", str(drill_id), "the auction is already closed"))
        deadline = before.plan.auction.rounds[-1].deadline
        moment = at if at is not None else max(deadline, before.events[-1].at)
        if moment < before.events[-1].at:
            return refused(
                _option_problem("--at", moment.isoformat(), "before the drill's last step")
            )
        state = close_auction(before, moment)
        if _append_new(store, drill_id, before, state):
            return done(StoredDrill(loaded.saved, state))
    return refused(_option_problem("ID", str(drill_id), "the drill is too busy: try again"))


def _append_new(store: Store, drill_id: int, before: DrillState, after: DrillState) -> bool:
    """Append the events ``after`` adds to ``before``; False when another writer came first."""
    new = [event.to_json() for event in after.events[len(before.events) :]]
    try:
        store.append_events(drill_id, new)
    except SequenceTakenError:
        return False
    return True


def _stored_drill(store: Store, drill_id: int) -> StoredDrill | Problems:
    from ccpwaterfall.app.drill import load_plan  # noqa: PLC0415
    from ccpwaterfall.lifecycle.drill import DrillEvent, DrillReplayError, replay  # noqa: PLC0415

    try:
        saved = store.get(drill_id)
        records = store.records_of(drill_id)
    except StoreError as error:
        return _id_problem(drill_id, error)
    if saved.kind != DRILL:
        kind = f"save {drill_id} is a {saved.kind}, not a drill"
        return _option_problem("ID", str(drill_id), kind)
    stored = records[0].value()
    path = Path(str(stored["drill_file"]))
    try:
        current = case_source(path).sha256
    except OSError as error:
        unreadable = Issue(str(path), "", f"cannot be read: {error.strerror or error}")
        return problems_in(path, (unreadable,))
    if current != stored["sha256"]:
        issue = Issue(str(path), "", f"changed since drill {drill_id} was started: restore it")
        return problems_in(path, (issue,))
    plan = load_plan(path)
    if isinstance(plan, Problems):
        return plan
    try:
        events = [DrillEvent.from_json(r.value()) for r in records[1:]]
        return StoredDrill(saved, replay(plan, events))
    except (DrillReplayError, KeyError, TypeError, ValueError) as error:
        why = f"its stored events do not replay ({error}): ccp verify checks them"
        return _option_problem("ID", str(drill_id), why)


def _option_problem(option: str, value: str, message: str) -> Problems:
    return problems_in(option, (Issue(option, value, message),))
