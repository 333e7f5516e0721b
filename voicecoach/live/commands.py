"""The words of a live session, one enum per idea: what a control asks for (``Command``),
what the player is doing (``PlayState``), how a stretch of playing ended (``Outcome``) and
why a session stopped, as the history records it (``StopReason``).

Each is a ``str`` enum whose value is the string it has always been (the history's rows,
MPRIS's ``PlaybackStatus``), so a member prints, formats and compares as that string.
"""

from __future__ import annotations

from enum import Enum


class _Word(str, Enum):
    """A member is its value: ``str()`` and f-strings give "quit", not "Command.QUIT", and
    it hashes as its value, so a plain "quit" finds it in a dict (not so in every Python)."""

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return format(self.value, spec)


class Command(_Word):
    """What the keys, the media buttons or a spoken word ask of the player."""

    PAUSE = "pause"          # a toggle: pauses, and while paused goes on
    CONTINUE = "continue"    # goes on when paused; never pauses a playing session
    NEXT = "next"
    PREVIOUS = "previous"
    REPEAT = "repeat"
    QUIT = "quit"
    PAIN = "pain"            # it hurts: stops at once like QUIT, recorded as stopped for pain
    # The check-in's answers at the session's end (the player ignores them before it).
    FELT_BETTER = "felt-better"
    FELT_SAME = "felt-same"
    FELT_WORSE = "felt-worse"


STOPS = (Command.QUIT, Command.PAIN)
MOVES = (Command.NEXT, Command.PREVIOUS, Command.REPEAT)


class PlayState(_Word):
    """What the player is doing, spelled as MPRIS's ``PlaybackStatus`` says it."""

    PLAYING = "Playing"
    PAUSED = "Paused"
    STOPPED = "Stopped"


class Outcome(_Word):
    """How a stretch of playing ended: shared by the player and the start that drives it."""

    FINISHED = "finished"    # the session's end
    STOPPED = "stopped"      # a stop command (``Player.stopped_by`` says which)
    REACHED = "reached"      # the intro alone played to its end; the rest is still being prepared


class StopReason(_Word):
    """Why a session stopped, as stored in the history (``history.store.STOP_REASONS``)."""

    QUIT = "quit"            # the user's q, "stop", or the media Stop button
    PAIN = "pain"
    SIGNAL = "signal"        # Ctrl-C, SIGTERM, SIGHUP
    ERROR = "error"          # the sound device or the voice failed
