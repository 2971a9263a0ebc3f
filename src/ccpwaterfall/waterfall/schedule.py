"""When the fund is replenished and assessment caps restart, event by event.

Without a cooling-off period the fund is replenished
``business_days_to_replenish`` business days after the latest event: an event
dated after that day sees it replenished, one on or before it sees the fund as
earlier events left it. Without the key it is never replenished. Assessment
caps then apply to each event on its own.

With a cooling-off period, a period starts at an event when none is running
and ends ``business_days`` later; an event inside it (on its last day
included) moves the end to its date plus ``extend_per_default`` if that is
later, never beyond ``max_business_days`` after the start. Assessment caps are
counted over the period; the fund is replenished when it ends, so an event
after the end sees the fund restored and starts a new period.
``business_days_to_replenish`` is then not used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ccpwaterfall.domain import CoolingOff, Rulebook, add_business_days


@dataclass(frozen=True, slots=True)
class EventSchedule:
    """What the rulebook's timing rules say about one event.

    ``replenished_before``: the fund was replenished between the previous event
    and this one. ``new_assessment_period``: assessment caps count afresh from
    this event. ``cooling_off_end``: the end of the period in force after this
    event (None without cooling-off or without dates). ``replenish_after``:
    without cooling-off, the day after which the fund is replenished (None if
    never).
    """

    replenished_before: bool
    new_assessment_period: bool
    cooling_off_end: dt.date | None = None
    replenish_after: dt.date | None = None


def schedule_events(
    dates: Sequence[dt.date | None], rulebook: Rulebook
) -> tuple[EventSchedule, ...]:
    """The schedule of events on ``dates`` (in order; None for the one undated event)."""
    if rulebook.cooling_off is not None:
        return _cooling_off_schedule(dates, rulebook.cooling_off)
    days = rulebook.business_days_to_replenish
    schedules: list[EventSchedule] = []
    replenish_after: dt.date | None = None
    for date in dates:
        replenished = replenish_after is not None and date is not None and date > replenish_after
        # Each event restarts the count.
        replenish_after = None if days is None or date is None else add_business_days(date, days)
        schedules.append(EventSchedule(replenished, True, replenish_after=replenish_after))
    return tuple(schedules)


def _cooling_off_schedule(
    dates: Sequence[dt.date | None], rule: CoolingOff
) -> tuple[EventSchedule, ...]:
    schedules: list[EventSchedule] = []
    start: dt.date | None = None
    end: dt.date | None = None
    for date in dates:
        if date is None:  # an undated case is one event: a period without dates
            schedules.append(EventSchedule(False, True))
            continue
        if start is None or end is None or date > end:
            replenished = end is not None
            start, end = date, add_business_days(date, rule.business_days)
            schedules.append(EventSchedule(replenished, True, end))
            continue
        extended = add_business_days(date, rule.extend_per_default)
        if rule.max_business_days is not None:
            extended = min(extended, add_business_days(start, rule.max_business_days))
        end = max(end, extended)
        schedules.append(EventSchedule(False, False, end))
    return tuple(schedules)
