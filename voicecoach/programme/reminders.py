"""A reminder: a routine, a time of day and the days of the week, read from ``remind``'s
options, and the words of it for systemd (``OnCalendar=``) and for a calendar (``BYDAY``).

A reminder is known by its routine: the name in the history (a built-in's name, or the
absolute path of its file), made into a unit name systemd accepts (``unit_name``), so
``remind --off ROUTINE`` finds what ``remind ROUTINE`` made, even for a file gone since.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PREFIX = "voicecoach-remind-"
SLUG_CHARS = 40  # of the routine's name in the unit's name; a hash keeps files apart


@dataclass(frozen=True)
class Reminder:
    """``routine`` (its name in the history) at ``hour``:``minute`` local time on ``days``
    (a tuple of ``DAYS``, in week order; all seven: every day)."""

    routine: str
    hour: int
    minute: int
    days: tuple[str, ...] = DAYS

    @property
    def every_day(self) -> bool:
        return set(self.days) == set(DAYS)

    @property
    def at(self) -> str:
        return f"{self.hour:02d}:{self.minute:02d}"

    def on_calendar(self) -> str:
        """systemd's ``OnCalendar=``: ``Mon,Wed,Fri *-*-* 08:00:00``, or every day."""
        days = "" if self.every_day else ",".join(d.capitalize() for d in self.days) + " "
        return f"{days}*-*-* {self.at}:00"

    def described(self) -> str:
        """'every day at 08:00', 'on Mon, Wed, Fri at 08:00'."""
        when = "every day" if self.every_day else "on " + ", ".join(d.capitalize() for d in self.days)
        return f"{when} at {self.at}"


def parse_at(text: str | None) -> tuple[int, int]:
    """``--at 08:00``: (hour, minute) of a 24-hour time of day."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*", text or "")
    if text is None:
        raise InputError("--at: give the time of day to be reminded, e.g. --at 08:00")
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise InputError(f"--at: not a time of day from 00:00 to 23:59, got {text!r}")
    return int(match[1]), int(match[2])


def parse_days(text: str | None) -> tuple[str, ...]:
    """``--days mon,wed,fri`` in week order (None: every day)."""
    if text is None:
        return DAYS
    given = [day.strip().lower() for day in text.split(",")]
    for day in given:
        if day not in DAYS:
            raise InputError(f"--days: unknown day {day!r}; use {', '.join(DAYS)}, "
                             "e.g. --days mon,wed,fri")
    return tuple(day for day in DAYS if day in given)


def unit_name(routine: str) -> str:
    """``voicecoach-remind-back-pain``; a file's routine by its file name and a short hash of
    its path (two ``back.yaml`` in two folders are two reminders)."""
    if "/" not in routine:
        return PREFIX + _slug(routine)
    digest = hashlib.sha256(routine.encode("utf-8")).hexdigest()[:8]
    return f"{PREFIX}{_slug(Path(routine).stem)}-{digest}"


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:SLUG_CHARS] or "routine"
