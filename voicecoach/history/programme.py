"""The programme over weeks, from the history: the intro's notes before a session (pain,
a week that fell short), and what ``history`` shows of the weekly rhythm and the pain.

The rules are pure functions in ``plan.pain`` and ``plan.rhythm``; this module feeds them a
routine's sessions and its schedule (the routine's own ``schedule:``, else the settings').
"""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Sequence

from ..plan import pain, rhythm
from ..plan.notes import intro_notes, with_notes


def per_week_of(routine) -> int | None:
    """The sessions a week planned for ``routine`` (a ``Routine``): its own, else the settings'."""
    if routine is not None and routine.per_week:
        return routine.per_week
    from ..config import per_week_setting
    return per_week_setting()


def per_week_of_name(name: str) -> int | None:
    """The same for a routine known by its name in the history (a built-in's name, or the
    path of its file); a file gone or broken since has the settings' schedule."""
    from ..errors import VoicecoachError
    from ..routine import load_routine
    try:
        routine = load_routine(name)
    except (VoicecoachError, OSError):
        routine = None
    return per_week_of(routine)


def with_programme_notes(routine, past: Sequence, language: str | None = None,
                         today: dt.date | None = None):
    """``routine`` whose intro first says what the past sessions ask to be said."""
    from ..plan.phrases import load_phrases
    if not past:
        return routine
    phrases = load_phrases(language or routine.language)
    notes = intro_notes(past, per_week_of(routine), phrases, today or dt.date.today())
    return with_notes(routine, notes, phrases)


def lines(sessions: Sequence, per_week: int | None, today: dt.date,
          tz: dt.tzinfo | None = None, width: int = 80) -> list[str]:
    """``history``'s lines about one routine's programme: the pain advice, then each week
    against the schedule, the streak and the adherence (nothing without a schedule)."""
    said = []
    rise = pain.rising(sessions)
    if rise is not None:
        said.append(f"Pain has gone up from {rise.first} to {rise.last} over the last three "
                    "sessions: please speak to a doctor or physiotherapist.")
    high = pain.high(sessions)
    if high is not None:
        said.append(f"Pain {high} last session: rest, or ask a doctor or physiotherapist, "
                    "before going on.")
    shown = [line for text in said for line in textwrap.wrap(text, max(width, 4))]
    if per_week:
        shown.extend(week_lines(rhythm.weeks(sessions, per_week, today, tz), per_week, width))
    return shown


def week_lines(weeks: Sequence[rhythm.Week], per_week: int, width: int = 80) -> list[str]:
    """'Weeks (3 a week): 2026-W47 3/3 ✓  2026-W48 2/3 so far', the streak and the adherence."""
    cells = [f"{w.label} {w.done}/{w.planned}{' ✓' if w.met else (' so far' if w.current else '')}"
             for w in weeks]
    head = f"Weeks ({per_week} a week):"
    out, line = [], head
    for cell in cells:
        if len(line) + 2 + len(cell) > width:
            out.append(line)
            line = " " * len(head)
        line += "  " + cell
    out.append(line)
    done = rhythm.adherence(weeks)
    streak = rhythm.streak(weeks)
    summary = f"Streak: {streak} week{'s' if streak != 1 else ''} met in a row"
    if done is not None:
        summary += (f"; last {min(rhythm.ADHERENCE_WEEKS, len([w for w in weeks if not w.current]))}"
                    f" weeks: {done[0]} of {done[1]} sessions ({round(100 * done[0] / done[1])}%)")
    out.append(summary)
    return out
