"""What the player asks of its controls, as protocols: every control implements all of
``Control`` (a method it has no use for does nothing), so nobody asks what it can do.

``Listening`` is the spoken commands' extra side: they must know when the coach itself
sounds, and which words to listen for.
"""

from __future__ import annotations

from typing import Iterable, Mapping, Protocol

from ..commands import Command, PlayState


class Control(Protocol):
    """A way to command the session: the terminal's keys, media buttons, spoken words."""

    @property
    def interactive(self) -> bool:
        """Whether someone can press keys here (the screen then shows their help)."""

    def wait(self, timeout_s: float) -> Command | None:
        """The next command, or None after ``timeout_s`` (0: do not wait)."""

    def update(self, status: PlayState, title: str, exercise: str, length_s: float,
               position_s: float = 0.0, track: int | None = None) -> None:
        """What plays now: the routine's ``title``, the ``exercise`` (``length_s`` long,
        ``position_s`` into it) as chapter number ``track``. Called every tick."""

    def close(self) -> None:
        """Stop listening (threads, the bus, a recorder); idempotent."""


class Listening(Protocol):
    """The spoken commands, as the player tells them what it plays."""

    def mute_while(self, intervals: Iterable[tuple[float, float]], now_s: float | None = None) -> None:
        """The coach sounds during ``intervals`` (monotonic ``(start_s, end_s)``) from ``now_s`` on."""

    def listen_for(self, words: Mapping[str, Command]) -> None:
        """Listen for these words (spoken word -> command) from the next utterance on."""

    def taken(self):
        """The spoken word behind the command ``wait`` last returned (a ``Heard``: its
        ``word``), once; None when that command was not spoken (a key, a button)."""
