"""Single key presses from the terminal: the keys of a live session.

When stdin is a terminal it is put in cbreak mode (keys arrive one by one, unechoed;
Ctrl-C still interrupts) for the session and always restored. Otherwise there are no
keys: ``wait`` just sleeps, so a session under a script or a pipe simply plays through.
"""

from __future__ import annotations

import os
import select
import sys
import time

from ..checkin import KEYS as CHECK_IN_KEYS

PAUSE, NEXT, PREVIOUS, REPEAT, QUIT = "pause", "next", "previous", "repeat", "quit"
PAIN = "pain"  # it hurts: stops at once like QUIT, and the session is recorded as stopped for pain
STOPS = (QUIT, PAIN)
# 1, 2, 3 answer the check-in at the session's end (the player ignores them before it).
BINDINGS = {" ": PAUSE, "n": NEXT, "p": PREVIOUS, "r": REPEAT, "q": QUIT, "h": PAIN, **CHECK_IN_KEYS}
HELP = "space pause · n next · p previous · r repeat · q stop · h it hurts"


class Keys:
    """``wait(timeout_s)``: the next command (``PAUSE``, ``NEXT``...) or None on timeout."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdin
        self.interactive = is_terminal(self.stream)
        self._saved = None
        self._pending: list[str] = []  # keys typed together arrive in one read

    def __enter__(self) -> "Keys":
        if self.interactive:
            import termios
            import tty
            fd = self.stream.fileno()
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc) -> None:
        if self._saved is not None:
            import termios
            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def wait(self, timeout_s: float) -> str | None:
        if self._pending:
            return self._pending.pop(0)
        if not self.interactive:
            time.sleep(max(0.0, timeout_s))
            return None
        fd = self.stream.fileno()
        ready, _, _ = select.select([fd], [], [], max(0.0, timeout_s))
        if not ready:
            return None
        data = os.read(fd, 64)
        if not data:  # the terminal went away: from now on, play through
            self.interactive = False
            return None
        self._pending = [BINDINGS[c] for c in data.decode(errors="ignore").lower() if c in BINDINGS]
        return self._pending.pop(0) if self._pending else None


def is_terminal(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
