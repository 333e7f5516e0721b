"""How times and user text are written in one line: tables, the screen, messages."""

from __future__ import annotations


def clock(seconds: float, millis: bool = True) -> str:
    """``m:ss.mmm`` (or ``h:mm:ss.mmm``) to the millisecond, rounded; without ``millis``
    ``m:ss`` in whole seconds, rounded down (a clock never shows a second not yet gone)."""
    if not millis:
        whole = max(0, int(seconds))
        hours, rest = divmod(whole, 3600)
        return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{whole // 60}:{whole % 60:02d}"
    total = round(seconds * 1000)
    hours, total = divmod(total, 3_600_000)
    minutes, total = divmod(total, 60_000)
    if hours:
        return f"{hours:d}:{minutes:02d}:{total / 1000:06.3f}"
    return f"{minutes:d}:{total / 1000:06.3f}"


def clip(text: str, limit: int = 40) -> str:
    """User text shortened for a one-line message."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def printable(text: str) -> str:
    """``text`` as is, or its repr where it holds control or other unprintable characters."""
    return text if text.isprintable() else repr(text)
