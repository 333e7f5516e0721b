"""What a person types about a session: ``log --when``, ``log --pain`` and ``--level``.

Each is checked whole before anything is recorded, and anything else is one ``InputError``
line (exit status 2) that quotes the input cut short (``text.clip``): never a traceback, never
a guess. Numbers are ASCII digits only: ``int()`` also takes '३' and '²'-like digits, and
thousands of digits, none of which a person means as a number of reps.

A time without an offset is the user's local time; one that the local clock skipped (the
spring-forward gap) or showed twice (the autumn hour) is refused with the offsets to choose
from, since moving it silently would record another time than the one meant.
"""

from __future__ import annotations

import datetime as dt

from ..errors import InputError
from ..routine.vocabulary import MAX_REPS
from ..text import clip, printable
from .store import MAX_PAIN

EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # before this a --when is a slip
AHEAD_S = 60  # a --when this far ahead of the clock is a clock's difference; beyond, a slip
EXAMPLE = "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)"


def parse_when(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """``log --when``: an ISO-8601 time, local if it has no offset, in UTC; not before
    ``EARLIEST`` nor more than ``AHEAD_S`` after ``now`` (default: the clock)."""
    shown = _shown(text)
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--when: not an ISO-8601 time, got {_quoted(text)} {EXAMPLE}") from None
    now = now or dt.datetime.now(dt.timezone.utc)
    # Years first: converting year 1 or 9999 between zones overflows the datetime range.
    if when.year < EARLIEST.year:
        raise InputError(f"--when: {shown} is before {EARLIEST.year}; give the time you started")
    if when.year > now.year + 1:
        raise InputError(_future(shown, now))
    when = (_local(when.replace(tzinfo=None), shown) if when.tzinfo is None else when)
    when = when.astimezone(dt.timezone.utc)
    if when < EARLIEST:
        raise InputError(f"--when: {shown} is before {EARLIEST.year}; give the time you started")
    if (when - now).total_seconds() > AHEAD_S:
        raise InputError(_future(shown, now))
    return when


def _future(shown: str, now: dt.datetime) -> str:
    return (f"--when: {shown} is in the future (it is now {now.astimezone():%Y-%m-%d %H:%M}); "
            "give the time you started")


def _local(naive: dt.datetime, shown: str) -> dt.datetime:
    """``naive`` on the user's clock; refused if that clock never showed it or showed it twice."""
    early, late = naive.replace(fold=0).astimezone(), naive.replace(fold=1).astimezone()
    if early.replace(tzinfo=None) != naive or late.replace(tzinfo=None) != naive:
        offset = (naive - dt.timedelta(hours=3)).astimezone().isoformat()[-6:]  # before the gap
        raise InputError(f"--when: {shown} did not happen on your clock (it was moved forward "
                         f"past it); give the time with its offset, e.g. {shown}{offset}")
    if early.utcoffset() != late.utcoffset():
        first, second = early.isoformat()[-6:], late.isoformat()[-6:]
        raise InputError(f"--when: {shown} happened twice on your clock (it was moved back); "
                         f"say which with its offset: {shown}{first} or {shown}{second}")
    return early


def parse_pain(text: str | None) -> int | None:
    """``log --pain``: None, or a whole number from 0 to ``MAX_PAIN`` in ASCII digits."""
    if text is None:
        return None
    value = _ascii_number(text)
    if value is None or value > MAX_PAIN:
        raise InputError(f"--pain: must be a whole number from 0 to {MAX_PAIN}, got {_shown(text)}")
    return value


def parse_level(text: str | None, fresh: str) -> str | int | None:
    """``--level``: None (from the history), ``fresh``, or reps from 1 to ``MAX_REPS``."""
    if text is None or text == fresh:
        return text
    value = _ascii_number(text)
    if value is not None and 1 <= value <= MAX_REPS:
        return value
    limit = f" up to {MAX_REPS}" if value is not None and value > MAX_REPS else ""
    raise InputError(f"--level: must be 'fresh' or a whole number of repetitions{limit}, "
                     f"got {_quoted(text)}")


def parse_id(text: str) -> int:
    """``history --delete``: a session's ID, as the table and ``--json`` show it."""
    value = _ascii_number(text)
    if value is None or value < 1:
        raise InputError(f"--delete: must be a session's ID (a whole number from the ID column "
                         f"of 'voicecoach history'), got {_quoted(text)}")
    return value


def _ascii_number(text: str) -> int | None:
    """The number in ``text`` if it is ASCII digits (a few: an int of 5000 digits is slow and
    refused by Python itself), else None."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        return None
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) <= 6 else 10 ** 6  # beyond any range we check


def _shown(text: str) -> str:
    """``text`` cut to one line's worth, unquoted; ``repr`` where it holds control characters."""
    return printable(clip(text))


def _quoted(text: str) -> str:
    return repr(clip(text))
