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
from ..commands import Command, PlayState

# 1, 2, 3 answer the check-in at the session's end (the player ignores them before it).
BINDINGS = {" ": Command.PAUSE, "n": Command.NEXT, "p": Command.PREVIOUS, "r": Command.REPEAT,
            "q": Command.QUIT, "h": Command.PAIN, **CHECK_IN_KEYS}
HELP = "space pause · n next · p previous · r repeat · q stop · h it hurts"


class Keys:
    """A ``Control``: ``wait(timeout_s)`` gives the next command (``Command.PAUSE``...) or
    None on timeout."""

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stdin
        self.interactive = is_terminal(self.stream)
        self._saved = None
        self._pending: list[Command] = []  # keys typed together arrive in one read

    def __enter__(self) -> "Keys":
        if self.interactive:
            import termios
            import tty
            fd = self.stream.fileno()
            self._saved = termios.tcgetattr(fd)
            tty.setcbreak(fd)
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Give the terminal back as it was (idempotent)."""
        if self._saved is not None:
            import termios
            termios.tcsetattr(self.stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def update(self, status: PlayState, title: str, exercise: str, length_s: float,
               position_s: float = 0.0, track: int | None = None) -> None:
        """Nothing: the screen, not the keys, shows what plays."""

    def wait(self, timeout_s: float) -> Command | None:
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
