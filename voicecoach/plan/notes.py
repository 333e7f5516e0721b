"""What the intro says about the programme before the session starts: a high pain score last
time, pain rising over the last sessions, a week that fell short of the plan. Each is a
sentence of the phrase pack; none asks anything, and the session plays after them as ever.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

from . import pain, rhythm


def intro_notes(sessions: Sequence, per_week: int | None, phrases, today: dt.date,
                tz: dt.tzinfo | None = None) -> list[str]:
    """The sentences for the intro of today's session, after ``sessions`` (oldest first)."""
    notes = []
    high = pain.high(sessions)
    if high is not None:
        notes.append(phrases.say("pain_high", pain=high))
    rise = pain.rising(sessions)
    if rise is not None:
        notes.append(phrases.say("pain_rising", first=rise.first, last=rise.last))
    if per_week:
        short = rhythm.fell_short(rhythm.weeks(sessions, per_week, today, tz))
        if short is not None:
            key = "week_short_none" if short.done == 0 else "week_short_some"
            notes.append(phrases.say(key, done=short.done, planned=short.planned))
    return notes


def with_notes(routine, notes: Sequence[str], phrases):
    """``routine`` with ``notes`` said after its welcome (the pack's, if it has none)."""
    if not notes:
        return routine
    intro = routine.intro if routine.intro is not None else phrases.say("intro")
    return replace(routine, intro=" ".join([intro, *notes]))
