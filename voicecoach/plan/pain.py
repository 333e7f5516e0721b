"""What the pain scores of past sessions say beyond today's level (``progression`` uses each
session's own score): a score of 8 or more, and pain that rises over the last sessions.

Both are said, never acted on: the intro of the next session says so and advises rest or
advice (a doctor or physiotherapist), and ``history`` and the report show it; the session
still plays if the person chooses it. Sessions are records with ``pain`` (0-10 or None),
oldest first, like the history's ``SessionRecord``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

PAIN_HIGH = 8  # a score this high: rest, or ask for advice, before the next session
PAIN_RISE = 2  # pain up by this much over the last RISE_SESSIONS scored sessions
RISE_SESSIONS = 3


@dataclass(frozen=True)
class Rise:
    """Pain that went up from ``first`` to ``last`` over the last ``RISE_SESSIONS`` scores."""

    first: int
    last: int


def scores(sessions: Sequence) -> list[int]:
    """The pain scores given, oldest first (sessions without one are left out)."""
    return [s.pain for s in sessions if s.pain is not None]


def rising(sessions: Sequence) -> Rise | None:
    """A ``Rise`` when the latest of the last three scores is ``PAIN_RISE`` or more above the
    first of them (2, 3, 4 and 2, 5, 4 both are); None otherwise, or with fewer scores."""
    last = scores(sessions)[-RISE_SESSIONS:]
    if len(last) < RISE_SESSIONS or last[-1] - last[0] < PAIN_RISE:
        return None
    return Rise(last[0], last[-1])


def high(sessions: Sequence) -> int | None:
    """The last session's score if it was ``PAIN_HIGH`` or more, else None."""
    if not sessions or sessions[-1].pain is None or sessions[-1].pain < PAIN_HIGH:
        return None
    return sessions[-1].pain


def trend(sessions: Sequence) -> str:
    """'rising', 'falling' or 'steady' over the period (first score against the last), or
    'none' with fewer than two scores: the word the report prints."""
    given = scores(sessions)
    if len(given) < 2:
        return "none"
    change = given[-1] - given[0]
    return "rising" if change > 0 else "falling" if change < 0 else "steady"
