"""Durations as people write them (``2s``, ``1m30s``, ``90``) and as the voice says them.

All values are seconds (float). Parsing raises ``ValueError`` with the reason only; the
routine loader adds the file, line and field.
"""

from __future__ import annotations

import math
import re

from ..text import clip

_NUMBER = r"(\d+(?:\.\d+)?)"
_SECONDS = r"s(?:ec(?:ond)?s?)?"
_DURATION = re.compile(rf"{_NUMBER}\s*m(?:in(?:ute)?s?)?\s*(?:{_NUMBER}\s*{_SECONDS})?|{_NUMBER}\s*{_SECONDS}",
                       re.IGNORECASE)
_BARE = re.compile(r"\d+(?:\.\d+)?")
DURATION_HINT = "a duration like 2s, 1.5s, 90s, 1m or 1m30s"


def parse_duration(value: object) -> float:
    """Seconds from ``2s``, ``1.5s``, ``90s``, ``1m``, ``1m30s``, ``2 seconds`` or a bare number.

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
    text = value.strip()
    sign = -1.0 if text.startswith("-") else 1.0  # so "-2s" is called negative, not unreadable
    body = text[1:].lstrip() if text[:1] in "+-" else text
    if _BARE.fullmatch(body):
        return sign * float(body)
    match = _DURATION.fullmatch(body)
    if not match:
        raise ValueError(f"must be {DURATION_HINT}, got {_shown(value)}")
    minutes, rest, only = match.groups()
    return sign * (float(minutes or 0) * 60 + float(rest or only or 0))


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
