"""Use cases of a live fire drill: start it from a drill file, take sealed bids, close it.

The drill engine (``lifecycle.drill``) is event-sourced; a live drill keeps its
events in a ``DrillLog`` (the store's drill chains, or ``MemoryDrillLog`` in
one process), and its state is always the plan replayed over the stored
events: the stored drill is the record.

A live drill runs on the drill file's own timeline: the auction opens when
the drill starts, and the drill's clock then runs with the wall clock, so a
round whose deadline is two hours after its opening takes bids for two real
hours; a bid after the last deadline is refused by the engine itself.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Protocol

from ccpwaterfall.app.drill import load_plan
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.domain import Money
from ccpwaterfall.io import Issue
from ccpwaterfall.lifecycle.drill import (
    BidRefused,
    DrillEvent,
    DrillState,
    close_auction,
    open_drill,
    replay,
    submit_bid,
)
from ccpwaterfall.lifecycle.drill_plan import DrillPlan

PLAN_FORMAT = "ccp-live-drill/1"
MAX_PRICE_DIGITS = 18  # a bid of a quintillion or more is a typing error, not a price
RETRIES = 20  # another writer took the next position: read back and decide again


class EventsTakenError(Exception):
    """Another writer appended to the drill first."""


class UnknownDrillError(KeyError):
    """No drill has that id."""


class DrillLog(Protocol):
    """Where live drills keep their plan and events."""

    def create(
        self, label: str, plan: Mapping[str, object], events: Sequence[Mapping[str, object]]
    ) -> int:
        """A new drill with its first events, at once; its id."""
        ...

    def append(self, drill_id: int, events: Sequence[Mapping[str, object]]) -> None:
        """Append events that follow the last stored one; ``EventsTakenError`` if another
        writer took that position first; ``UnknownDrillError`` for no such drill."""
        ...

    def plan(self, drill_id: int) -> Mapping[str, object]: ...

    def events(self, drill_id: int) -> list[Mapping[str, object]]: ...

    def drills(self) -> list[tuple[int, str]]:
        """Every drill's id and label, newest first."""
        ...


class MemoryDrillLog:
    """Live drills held in this process."""

    def __init__(self) -> None:
        self._drills: dict[int, tuple[str, dict[str, object], list[Mapping[str, object]]]] = {}
        self._lock = threading.Lock()

    def create(
        self, label: str, plan: Mapping[str, object], events: Sequence[Mapping[str, object]]
    ) -> int:
        with self._lock:
            drill_id = len(self._drills) + 1
            self._drills[drill_id] = (label, dict(plan), list(events))
            return drill_id

    def append(self, drill_id: int, events: Sequence[Mapping[str, object]]) -> None:
        with self._lock:
            stored = self._get(drill_id)[2]
            if events and events[0]["sequence"] != len(stored):
                raise EventsTakenError(drill_id)
            stored.extend(events)

    def plan(self, drill_id: int) -> Mapping[str, object]:
        return self._get(drill_id)[1]

    def events(self, drill_id: int) -> list[Mapping[str, object]]:
        with self._lock:
            return list(self._get(drill_id)[2])

    def drills(self) -> list[tuple[int, str]]:
        return [(i, self._drills[i][0]) for i in sorted(self._drills, reverse=True)]

    def _get(self, drill_id: int) -> tuple[str, dict[str, object], list[Mapping[str, object]]]:
        if drill_id not in self._drills:
            raise UnknownDrillError(drill_id)
        return self._drills[drill_id]


@dataclass(frozen=True, slots=True, eq=False)
class LiveDrill:
    """A live drill: its id, the file it started from, when it started (wall clock, UTC),
    the drill time of that start, and its state."""

    id: int
    file: Path
    started: dt.datetime
    opened: dt.datetime
    state: DrillState

    def drill_time(self, now: dt.datetime) -> dt.datetime:
        """The drill's clock at wall-clock ``now``."""
        return self.opened + (now - self.started)

    @property
    def deadline(self) -> dt.datetime:
        return self.state.plan.auction.rounds[-1].deadline

    @property
    def version(self) -> int:
        """Grows with every event: a page is current while its version is."""
        return len(self.state.events)


Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def start_drill(log: DrillLog, path: Path, now: dt.datetime) -> Outcome[LiveDrill]:
    """Start a drill from the drill file at ``path``: the margin call, the default, the
    notices, isolation, porting and hedging, and the auction opens now."""
    plan = load_plan(path)
    if isinstance(plan, Problems):
        return refused(plan)
    state = open_drill(plan)
    opened = max(plan.auction.rounds[0].opens_at, state.events[-1].at)
    document = {
        "format": PLAN_FORMAT,
        "file": str(path),
        "sha256": _digest(path),
        "started": now.isoformat(),
        "opened": opened.isoformat(),
    }
    drill_id = log.create(plan.name, document, [event.to_json() for event in state.events])
    return done(LiveDrill(drill_id, path, now, opened, state))


class LiveDrills:
    """The live drills of one service, over one log: each drill's plan read once, its state
    kept between requests and checked against the log before each write."""

    def __init__(self, log: DrillLog) -> None:
        self.log = log
        self._plans: dict[int, DrillPlan] = {}
        self._live: dict[int, LiveDrill] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def drill(self, drill_id: int) -> LiveDrill:
        """The drill as stored now (``UnknownDrillError``; ``Problems`` are raised as
        ``DrillFileError`` when its file changed or went)."""
        stored = self.log.events(drill_id)
        known = self._live.get(drill_id)
        if known is not None and known.version == len(stored):
            return known
        return self._load(drill_id, stored)

    def _load(self, drill_id: int, stored: list[Mapping[str, object]]) -> LiveDrill:
        document = self.log.plan(drill_id)
        path = Path(str(document["file"]))
        plan = self._plans.get(drill_id)
        if plan is None:
            if not path.is_file() or _digest(path) != document["sha256"]:
                raise DrillFileError(
                    f"drill {drill_id}: its file {path} changed or went since it started"
                )
            loaded = load_plan(path)
            if isinstance(loaded, Problems):
                raise DrillFileError(f"drill {drill_id}: its file {path} is no longer valid")
            plan = self._plans.setdefault(drill_id, loaded)
        state = replay(plan, [DrillEvent.from_json(event) for event in stored])
        live = LiveDrill(
            drill_id,
            path,
            dt.datetime.fromisoformat(str(document["started"])),
            dt.datetime.fromisoformat(str(document["opened"])),
            state,
        )
        self._live[drill_id] = live
        return live

    def _drill_lock(self, drill_id: int) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(drill_id, threading.Lock())

    def bid(
        self, drill_id: int, member: str, lot: str, price: str, now: dt.datetime
    ) -> Outcome[LiveDrill]:
        """A sealed bid of ``member`` on ``lot`` at ``price`` (what it pays for the lot, in
        the drill's currency), made at wall-clock ``now``; refused with the auction's reason."""

        def step(live: LiveDrill) -> DrillState:
            amount = _price(price, live)
            return submit_bid(live.state, member, lot, amount, live.drill_time(now))

        return self._write(drill_id, step)

    def close(self, drill_id: int, now: dt.datetime) -> Outcome[LiveDrill]:
        """Close the auction now: rounds, forced allocation, the loss through the waterfall,
        replenishment and statements."""

        def step(live: LiveDrill) -> DrillState:
            if live.state.phase != "open":
                raise BidRefused("the auction is already closed")
            at = max(live.drill_time(now), live.state.events[-1].at)
            return close_auction(live.state, at)

        return self._write(drill_id, step)

    def _write(self, drill_id: int, step: Callable[[LiveDrill], DrillState]) -> Outcome[LiveDrill]:
        # One writer per drill in this process; the log's positions guard other processes.
        with self._drill_lock(drill_id):
            for _ in range(RETRIES):
                live = self.drill(drill_id)
                try:
                    state = step(live)
                except BidRefused as refusal:
                    return refused(problems_in(f"drill {drill_id}", (_issue(refusal),)))
                new = state.events[len(live.state.events) :]
                try:
                    self.log.append(drill_id, [event.to_json() for event in new])
                except EventsTakenError:
                    self._live.pop(drill_id, None)
                    continue
                updated = LiveDrill(live.id, live.file, live.started, live.opened, state)
                self._live[drill_id] = updated
                return done(updated)
        raise EventsTakenError(drill_id)


class DrillFileError(Exception):
    """A live drill whose file can no longer give its plan."""


def _issue(refusal: BidRefused) -> Issue:
    return Issue("bid", "bid", refusal.reason)


def _price(text: str, live: LiveDrill) -> Money:
    ccy = live.state.currency
    try:
        value = Decimal(text.strip())
        if not value.is_finite() or value.adjusted() >= MAX_PRICE_DIGITS:
            raise InvalidOperation
        return Money.of(value, ccy)
    except (InvalidOperation, ValueError):
        raise BidRefused(
            f"the price {text[:40]!r} is not an amount in {ccy.code} "
            f"(at most {ccy.minor_unit} decimals and {MAX_PRICE_DIGITS} digits, e.g. -1500000.00)"
        ) from None
