"""A weekly rhythm: ``schedule: {per_week: N}`` sessions a week, and how the weeks went.

Weeks run Monday to Sunday in local time, from the week of the first session to this week
(weeks before the first session were not planned). A session counts when it was completed
or stopped for pain (stopping because it hurts is the right thing, not a missed session);
one stopped with ``q``, a signal or an error does not. Sessions are records with
``started_at``, ``outcome`` and ``stop_reason``, like the history's ``SessionRecord``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

MIN_PER_WEEK, MAX_PER_WEEK = 1, 14  # twice a day, every day, is the most a plan asks
ADHERENCE_WEEKS = 4


@dataclass(frozen=True)
class Week:
    """One week from Monday ``start``: ``done`` sessions of ``planned``; ``current`` while it runs."""

    start: dt.date
    done: int
    planned: int
    current: bool = False

    @property
    def met(self) -> bool:
        return self.done >= self.planned

    @property
    def label(self) -> str:
        """'2026-W48' (the ISO week), as ``history`` and the report show it."""
        year, week, _ = self.start.isocalendar()
        return f"{year}-W{week:02d}"


def counts(session) -> bool:
    """Whether ``session`` counts towards the week (see the module)."""
    return session.outcome == "completed" or session.stop_reason == "pain"


def monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weeks(sessions: Sequence, per_week: int, today: dt.date, tz: dt.tzinfo | None = None
          ) -> list[Week]:
    """Every week from the first session's to ``today``'s, oldest first ([] with no session)."""
    if not sessions:
        return []
    done: dict[dt.date, int] = {}
    for s in sessions:
        if counts(s):
            start = monday(s.started_at.astimezone(tz).date())
            done[start] = done.get(start, 0) + 1
    days = [s.started_at.astimezone(tz).date() for s in sessions]
    first, this_week = monday(min(days)), monday(today)
    last = max(this_week, monday(max(days)))  # a session logged for a later day (--when) shows
    found, start = [], first
    while start <= last:
        found.append(Week(start, done.get(start, 0), per_week, current=start == this_week))
        start += dt.timedelta(days=7)
    return found


def streak(found: Sequence[Week]) -> int:
    """Weeks met in a row up to now: the finished weeks back from the last one, and this
    week too once it is met (a week still running has not broken a streak)."""
    count = 0
    for week in reversed(found):
        if week.met:
            count += 1
        elif not week.current:
            break
    return count


def adherence(found: Sequence[Week], last: int = ADHERENCE_WEEKS) -> tuple[int, int] | None:
    """(sessions done, planned) over the last ``last`` finished weeks, each week's done
    counted up to its plan (six sessions one week do not make up for none the next);
    None before the first week has finished."""
    finished = [w for w in found if not w.current][-last:]
    if not finished:
        return None
    return sum(min(w.done, w.planned) for w in finished), sum(w.planned for w in finished)


def fell_short(found: Sequence[Week]) -> Week | None:
    """Last week, when it fell short and this week has no session yet (so the first session
    of the week says so, once); else None."""
    if len(found) < 2 or not found[-1].current or found[-1].done:
        return None
    return None if found[-2].met else found[-2]
