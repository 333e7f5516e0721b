"""Durations as people write them (``2s``, ``1m30s``, ``90``) and as the voice says them.

All values are seconds (float). Parsing raises ``ValueError`` with the reason only; the
routine loader adds the file, line and field.
"""

from __future__ import annotations

import math
import re

from ..text import clip

# One grammar of a duration, read by ``parse_duration`` and, as the JSON Schema's pattern
# (``schema``), by editors: so it is written in what Python's ``re`` and ECMA-262 read alike:
# ASCII classes only (Python's \d and \s also match other scripts' digits and spaces), no
# flags (units in any case are spelt out as [sS]), and spaces that may also end it (Python's
# $ matches before a last newline: here that newline is part of the spaces either way).
SPACE = "[ \\t\\r\\n]*"
_NUMBER = "([0-9]+(?:\\.[0-9]+)?)"


def any_case(word: str) -> str:
    """A pattern of ``word`` in any case (``[sS]``), for regular expressions without flags."""
    return "".join(f"[{c.lower()}{c.upper()}]" for c in word)


_SECONDS = f"{any_case('s')}(?:{any_case('ec')}(?:{any_case('ond')})?{any_case('s')}?)?"  # s, sec(s), second(s)
_MINUTES = f"({any_case('m')}(?:{any_case('in')}(?:{any_case('ute')})?{any_case('s')}?)?)"  # m, min(s), minute(s)
_BODY = f"{_NUMBER}(?:{SPACE}(?:{_MINUTES}(?:{SPACE}{_NUMBER}{SPACE}{_SECONDS})?|{_SECONDS}))?"


def _grammar(sign: str, positive: str = "") -> str:
    return f"^{positive}{SPACE}{sign}{SPACE}{_BODY}{SPACE}$"


# what a routine may write: ``2s``, ``1.5 S``, ``1m30s``, ``1 min 30 sec``, ``+2 seconds``, ``90``,
# and more than zero: digits are only in its numbers, so one of 1-9 makes it positive
DURATION_PATTERN = _grammar("\\+?", positive="(?=[^1-9]*[1-9])")
# the same, read with a minus too, so that "-2s" is called negative rather than unreadable
_DURATION = re.compile(_grammar("([+-]?)"))
DURATION_HINT = "a duration like 2s, 1.5s, 90s, 1m or 1m30s"


def parse_duration(value: object) -> float:
    """Seconds from ``2s``, ``1.5s``, ``90s``, ``1m``, ``1m30s``, ``2 seconds`` or a bare number
    (``DURATION_PATTERN``, units in any case).

    Raises ``ValueError`` for anything else, and for zero, negative, NaN or infinite values.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ValueError(f"must be {DURATION_HINT}, got {_shown(value)}")
    seconds = _seconds_from_text(value) if isinstance(value, str) else float(value)
    if math.isnan(seconds):
        raise ValueError(f"must be {DURATION_HINT}, got NaN (not a number)")
    if math.isinf(seconds):
        raise ValueError(f"must be a finite duration like 2s or 1m30s, got {clip(str(value))}")
    if seconds <= 0:
        raise ValueError(f"must be a positive duration like 2s or 1m30s, got {clip(str(value))}")
    return seconds


def _seconds_from_text(value: str) -> float:
    match = _DURATION.fullmatch(value)
    if not match:
        raise ValueError(f"must be {DURATION_HINT}, got {_shown(value)}")
    sign, first, minute_unit, then = match.groups()
    seconds = float(first) * 60 + float(then or 0) if minute_unit else float(first)
    return -seconds if sign == "-" else seconds


def format_duration(seconds: float) -> str:
    """Speakable words: ``1 minute 30 seconds``, ``10 seconds``, ``1.5 seconds``."""
    minutes, rest = divmod(round(seconds, 3), 60)
    parts = []
    if minutes:
        parts.append(f"{int(minutes)} minute" + ("s" if minutes != 1 else ""))
    if rest or not parts:
        number = f"{rest:g}"
        parts.append(f"{number} second" + ("s" if number != "1" else ""))
    return " ".join(parts)


def _shown(value: object) -> str:
    if isinstance(value, str):
        return f"the text {clip(value)!r}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    return clip(str(value))
