"""Several ways to command a session behind one ``wait(timeout_s) -> command | None``.

The terminal keys block in ``select``; the other sources (media buttons, spoken commands)
fill thread-safe queues from their own threads and answer ``wait(0)`` at once. So the
keys are waited on in short slices and the other sources are looked at between them: a
button press reaches the player within one slice (``SLICE_S``), with no extra thread and
no change to the keys. With the keys alone, their own ``wait`` is used unsliced.
"""

from __future__ import annotations

import time
from typing import Callable

from ..commands import Command
from .control import Control

SLICE_S = 0.01  # at most this long between looks at the queued sources


class Controls:
    """A ``Control``: ``keys`` (blocking) merged with ``others`` (queued: ``wait(0)`` must not
    block). ``update(...)`` and ``close()`` go to the others; the keys are the caller's to
    close (they give the terminal back as they leave their ``with``)."""

    def __init__(self, keys: Control, *others: Control, slice_s: float = SLICE_S,
                 clock: Callable[[], float] = time.monotonic):
        self.keys, self.others = keys, list(others)
        self.slice_s, self.clock = slice_s, clock

    @property
    def sources(self) -> list[Control]:
        return [self.keys, *self.others]

    @property
    def interactive(self) -> bool:
        """Whether the keys are live (the screen shows their help): as ``Keys.interactive``."""
        return bool(self.keys.interactive)

    def wait(self, timeout_s: float) -> Command | None:
        if not self.others:
            return self.keys.wait(timeout_s)
        deadline = self.clock() + max(0.0, timeout_s)
        while True:
            command = self.poll()
            if command is not None:
                return command
            left = deadline - self.clock()
            if left <= 0:
                return None
            command = self.keys.wait(min(self.slice_s, left))
            if command is not None:
                return command

    def poll(self) -> Command | None:
        """A command already waiting in one of the queued sources (the first one first)."""
        for source in self.others:
            command = source.wait(0)
            if command is not None:
                return command
        return None

    def update(self, *args, **kwargs) -> None:
        """What plays now (the arguments of ``Control.update``, passed on as given), for the
        sources that publish it (see ``Mpris.update``)."""
        for source in self.others:
            source.update(*args, **kwargs)

    def close(self) -> None:
        for source in self.others:
            source.close()
