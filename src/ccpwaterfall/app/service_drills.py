"""Use cases of a live fire drill in the web service: start it from a drill file, take sealed
bids, close it; each through the store's drill use cases (``app.store``), the very functions
behind ``ccp drill start``, ``bid``, ``close`` and ``status``.

The stored drill is the record: its state is always its plan replayed over the stored
events. A live drill runs on its drill file's own timeline: the auction opens when the
drill is stored, and the drill's clock then runs with the wall clock, so a round whose
deadline is two hours after its opening takes bids for two real hours; a bid after the
last deadline is refused by the auction itself.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ccpwaterfall.app import store as stored
from ccpwaterfall.app.outcome import Outcome, Problems, done, problems_in, refused
from ccpwaterfall.domain import Money
from ccpwaterfall.io import Issue
from ccpwaterfall.lifecycle.drill import DrillState
from ccpwaterfall.store import DRILL, Store, StoreError

MAX_PRICE_DIGITS = 18  # a bid of a quintillion or more is a typing error, not a price


@dataclass(frozen=True, slots=True, eq=False)
class LiveDrill:
    """A stored drill as the service shows it: its id and label, when it was stored (wall
    clock, UTC), the drill time its auction opened, and its state."""

    id: int
    label: str
    started: dt.datetime
    state: DrillState

    @property
    def opened(self) -> dt.datetime:
        """The drill time the auction opened: its first round's opening, or the last step
        before it when that came later."""
        opening = next(e.at for e in self.state.events if e.kind == "auction_opened")
        return max(self.state.plan.auction.rounds[0].opens_at, opening)

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


def _live(drill: stored.StoredDrill) -> LiveDrill:
    started = dt.datetime.fromisoformat(drill.saved.saved_at)
    return LiveDrill(drill.saved.id, drill.saved.label, started, drill.state)


class LiveDrills:
    """The stored drills of one service: each drill's state kept between requests while no
    event was added, and one writer per drill in this process (the store's positions guard
    writers in other processes)."""

    def __init__(self, store: Store, clock: Clock = utc_now) -> None:
        self.store = store
        self.clock = clock
        self._live: dict[int, LiveDrill] = {}
        self._locks: dict[int, threading.Lock] = {}
        self._lock = threading.Lock()

    def drills(self) -> list[tuple[int, str]]:
        """Every stored drill's id and label, newest first."""
        return [(s.id, s.label) for s in self.store.history() if s.kind == DRILL]

    def drill(self, drill_id: int) -> Outcome[LiveDrill]:
        """The drill as stored now, or why it cannot be shown (no such drill, its file
        changed, its events do not replay)."""
        known = self._live.get(drill_id)
        if known is not None:
            try:
                count = len(self.store.events(drill_id))
            except StoreError:
                count = -1
            if count == known.version:
                return done(known)
        status = stored.drill_status(self.store, drill_id)
        if status.value is None:
            return refused(*status.problems)
        live = _live(status.value)
        self._live[drill_id] = live
        return done(live)

    def start(self, path: Path) -> Outcome[LiveDrill]:
        """Store the drill of the file at ``path`` and run it to its auction (``ccp drill
        start``)."""
        started = stored.start_drill(self.store, path)
        if started.value is None:
            return refused(*started.problems)
        live = _live(started.value)
        self._live[live.id] = live
        return done(live)

    def bid(self, drill_id: int, member: str, lot: str, price: str) -> Outcome[LiveDrill]:
        """A sealed bid of ``member`` on ``lot`` at ``price`` (what it pays for the lot, in
        the drill's currency), made now (``ccp drill bid`` at the drill's time); refused with
        the auction's reason."""
        with self._drill_lock(drill_id):
            # The drill's clock needs only when it started: the last state seen will do, and
            # the store's bid reads the drill afresh.
            known = self._live.get(drill_id)
            current = done(known) if known is not None else self.drill(drill_id)
            if current.value is None:
                return current
            problem = _price_problem(price, current.value)
            if problem is not None:
                return refused(problem)
            # The time is read once the drill is this writer's: bids keep their order.
            at = current.value.drill_time(self.clock())
            return self._kept(stored.bid(self.store, drill_id, member, lot, price.strip(), at))

    def close(self, drill_id: int) -> Outcome[LiveDrill]:
        """Close the auction now (``ccp drill close`` at the drill's time): rounds, forced
        allocation, the loss through the waterfall, replenishment and statements."""
        with self._drill_lock(drill_id):
            current = self.drill(drill_id)
            if current.value is None:
                return current
            at = max(current.value.drill_time(self.clock()), current.value.state.events[-1].at)
            return self._kept(stored.close_drill(self.store, drill_id, at))

    def _kept(self, outcome: Outcome[stored.StoredDrill]) -> Outcome[LiveDrill]:
        if outcome.value is None:
            return refused(*outcome.problems)
        live = _live(outcome.value)
        self._live[live.id] = live
        return done(live)

    def _drill_lock(self, drill_id: int) -> threading.Lock:
        with self._lock:
            return self._locks.setdefault(drill_id, threading.Lock())


def _price_problem(text: str, live: LiveDrill) -> Problems | None:
    ccy = live.state.currency
    try:
        value = Decimal(text.strip())
        if value.is_finite() and value.adjusted() < MAX_PRICE_DIGITS:
            Money.of(value, ccy)  # more decimals than the currency's minor unit: ValueError
            return None
    except (InvalidOperation, ValueError):
        pass
    message = (
        f"the price {text[:40]!r} is not an amount in {ccy.code} "
        f"(at most {ccy.minor_unit} decimals and {MAX_PRICE_DIGITS} digits, e.g. -1500000.00)"
    )
    return problems_in("--price", (Issue("--price", text[:40], message),))
