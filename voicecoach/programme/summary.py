"""What the report says, from the history: the period, the weeks against the schedule, each
session's levels, feeling and pain (with the change since the last score), the pain's trend,
and the sessions stopped for pain with where. ``html`` and ``table`` only lay it out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import InputError
from ..plan import pain, rhythm


@dataclass(frozen=True)
class Row:
    """One session as the report shows it; ``pain_change`` is against the last score before."""

    when: dt.datetime
    length_s: float | None
    levels: dict[str, int | None]
    felt: str
    pain: int | None
    pain_change: int | None
    ended: str
    stopped_in: str | None


@dataclass(frozen=True)
class Summary:
    routine: str
    start: dt.date
    end: dt.date
    per_week: int | None
    exercises: tuple[str, ...]
    rows: tuple[Row, ...]
    weeks: tuple[rhythm.Week, ...]
    streak: int
    adherence: tuple[int, int] | None
    pain_trend: str
    pain_rise: pain.Rise | None
    stopped_for_pain: tuple[Row, ...]


def parse_day(text: str | None, option: str) -> dt.date | None:
    """``--from``/``--to``: a day as 2026-11-01, or None."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option}: not a day such as 2026-11-01, got {text!r}") from None


def summarize(routine: str, sessions: Sequence, per_week: int | None, start: dt.date | None = None,
              end: dt.date | None = None, tz: dt.tzinfo | None = None,
              today: dt.date | None = None) -> Summary:
    """The report on ``sessions`` (oldest first) from ``start`` to ``end`` (local days, both
    included; default: the first and last session's); ``InputError`` if none are in it."""
    if start and end and end < start:
        raise InputError(f"--to: {end} is before --from {start}")
    mine = [s for s in sessions if _within(s.started_at.astimezone(tz).date(), start, end)]
    if not mine:
        if start is None and end is None:
            raise InputError(f"no sessions of {routine} recorded yet; nothing written")
        shown = " ".join(part for part in (start and f"from {start}", end and f"to {end}") if part)
        raise InputError(f"no sessions of {routine} {shown}; nothing written")
    days = [s.started_at.astimezone(tz).date() for s in mine]
    first, last = start or min(days), end or max(days)
    exercises = tuple(dict.fromkeys(name for s in mine for name, _ in s.levels))
    rows = tuple(_rows(mine, exercises, tz))
    # this week is still running only if the period reaches it
    all_weeks = rhythm.weeks(mine, per_week, today or dt.date.today(), tz) if per_week else []
    weeks = tuple(w for w in all_weeks if w.start <= last)
    return Summary(routine, first, last, per_week, exercises, rows, weeks, rhythm.streak(weeks),
                   rhythm.adherence(weeks) if weeks else None, pain.trend(mine), pain.rising(mine),
                   tuple(r for r in rows if r.ended == "stopped for pain"))


def _within(day: dt.date, start: dt.date | None, end: dt.date | None) -> bool:
    return (start is None or day >= start) and (end is None or day <= end)


def _rows(sessions: Sequence, exercises: Sequence[str], tz) -> list[Row]:
    rows, last_score = [], None
    for s in sessions:
        change = None if s.pain is None or last_score is None else s.pain - last_score
        last_score = s.pain if s.pain is not None else last_score
        ended = "completed" if s.outcome == "completed" else _stopped(s.stop_reason)
        rows.append(Row(s.started_at.astimezone(tz), s.length_s,
                        {name: s.level_of(name) for name in exercises}, s.felt, s.pain, change,
                        ended, s.stopped_at if s.outcome == "stopped" else None))
    return rows


def _stopped(stop_reason: str | None) -> str:
    """'stopped for pain' (``h``), or 'stopped (q)', 'stopped (signal)', 'stopped (error)'."""
    return "stopped for pain" if stop_reason == "pain" else \
        f"stopped ({'q' if stop_reason == 'quit' else stop_reason})"


def adherence_text(summary: Summary) -> str:
    """'9 of 12 sessions (75%) over the last 4 finished weeks', or why there is none."""
    if summary.per_week is None:
        return "no schedule set"
    if summary.adherence is None:
        return "no finished week yet"
    done, planned = summary.adherence
    finished = min(rhythm.ADHERENCE_WEEKS, len([w for w in summary.weeks if not w.current]))
    return (f"{done} of {planned} sessions ({round(100 * done / planned)}%) over the last "
            f"{finished} finished week{'s' if finished != 1 else ''}")


def pain_text(summary: Summary) -> str:
    """The pain's trend over the period, in a sentence."""
    scores = [r.pain for r in summary.rows if r.pain is not None]
    if not scores:
        return "No pain scores were given."
    text = (f"Pain from {scores[0]} to {scores[-1]} over {len(scores)} scored session"
            f"{'s' if len(scores) != 1 else ''}: {summary.pain_trend}.")
    if summary.pain_rise is not None:
        text += (f" It rose from {summary.pain_rise.first} to {summary.pain_rise.last} over the "
                 "last three scores: worth a word with a doctor or physiotherapist.")
    return text
