"""What the session shows: large and calm on a terminal, plain short lines otherwise.

Someone on the floor glances up at it: the exercise, what to do now (listen, hold,
rest), the seconds left in big digits, and how far through the session they are.
``frame`` is pure (status in, lines out) so its layout is tested without a terminal.
"""

from __future__ import annotations

import math
import os
import select
import shutil
import signal
import stat
import sys
import textwrap
import threading
import time
from typing import Protocol

from ..signals import Terminated
from ..text import clock
from .controls.keys import HELP as KEYS_HELP
from .playplan import Status

# 3x5 pixel digits; each pixel is drawn two characters wide so the digits look square.
_FONT = {
    "0": ("###", "# #", "# #", "# #", "###"), "1": (" # ", "## ", " # ", " # ", "###"),
    "2": ("###", "  #", "###", "#  ", "###"), "3": ("###", "  #", "###", "  #", "###"),
    "4": ("# #", "# #", "###", "  #", "  #"), "5": ("###", "#  ", "###", "  #", "###"),
    "6": ("###", "#  ", "###", "# #", "###"), "7": ("###", "  #", "  #", "  #", "  #"),
    "8": ("###", "# #", "###", "# #", "###"), "9": ("###", "# #", "###", "  #", "###"),
    ":": (" ", "#", " ", "#", " "),
}
LABELS = {"say": "Listen", "hold": "Hold", "rest": "Rest", "ready": "Get ready", "": ""}
BOLD, DIM, RESET = "\x1b[1m", "\x1b[2m", "\x1b[0m"
HEARD_S = 2.0  # how long the terminal shows the word heard


def heard_line(word: str) -> str:
    return f'Heard "{word}".'


class Screen(Protocol):
    """What the session shows on: ``TerminalScreen`` or ``LineScreen``."""

    def show(self, status: Status, paused: bool = False) -> None:
        """The status now (called every tick: cheap when nothing changed)."""

    def note(self, text: str) -> None:
        """A message in place of the status."""

    def heard(self, word: str) -> None:
        """A spoken command was heard and obeyed: show the word, for a moment."""

    def close(self) -> None:
        """Showing is over (a terminal screen gives the normal screen back)."""


def countdown(seconds: float) -> str:
    """Seconds left as shown: rounded up, so "1" is on screen during the last second."""
    whole = max(0, math.ceil(seconds - 1e-9))
    return str(whole) if whole < 60 else f"{whole // 60}:{whole % 60:02d}"


def big(text: str) -> list[str]:
    """``text`` (digits and colons) as five rows of block characters."""
    rows = []
    for row in range(5):
        glyphs = [_FONT[char][row] for char in text if char in _FONT]
        rows.append("  ".join(g.replace("#", "██").replace(" ", "  ") for g in glyphs))
    return rows


def progress_bar(fraction: float, width: int) -> str:
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return "█" * filled + "░" * (width - filled)


def where(status: Status) -> str:
    if status.exercise_number is None:
        return status.chapter
    return f"Exercise {status.exercise_number} of {status.exercise_count}"


def frame(title: str, status: Status, width: int, paused: bool = False,
          controls: str = KEYS_HELP, height: int = 24) -> list[tuple[str, str]]:
    """The screen as ``(style, text)`` lines, each text already centred in ``width``;
    ``controls`` is the line naming the active controls ("" for none). The step's text is
    wrapped whole into the rows the ``height`` leaves (a long intro too); only a text that
    cannot fit even so ends in "…"."""
    head = [("", ""), (DIM, f"{title} · {where(status)}"), ("", ""), (BOLD, status.chapter.upper()), ("", "")]
    head.append((BOLD, "Paused" if paused else LABELS.get(status.step, "")))
    if status.seconds_left is not None and not paused:
        head += [("", "")] + [(BOLD, row) for row in big(countdown(status.seconds_left))]
    head.append(("", ""))
    tail = [("", ""), ("", _elapsed(status, width))]
    if paused:
        tail += [("", ""), ("", "press space to continue, q to stop, h if it hurts")]
    elif controls:
        tail += [("", ""), (DIM, controls)]
    text_style = "" if status.step == "say" and not paused else DIM
    rows = text_rows(status.text, max(20, min(width - 4, 72)), max(4, height - len(head) - len(tail)))
    lines = head + [(text_style, row) for row in rows] + tail
    return [(style, text.center(width).rstrip()) for style, text in lines]


def text_rows(text: str, width: int, rows: int) -> list[str]:
    """``text`` wrapped at ``width``, in at most ``rows`` rows (the last one shortened to
    end in "…" when it does not all fit)."""
    wrapped = textwrap.wrap(text, width)
    if len(wrapped) <= rows:
        return wrapped
    rest = " ".join(wrapped[rows - 1:])
    return wrapped[:rows - 1] + [textwrap.shorten(rest, width, placeholder=" …")]


def _elapsed(status: Status, width: int) -> str:
    if not status.total_s:
        return clock(status.elapsed_s, millis=False)
    bar = progress_bar(status.elapsed_s / status.total_s, min(40, width - 20))
    return f"{bar}  {clock(status.elapsed_s, millis=False)} / {clock(status.total_s, millis=False)}"


class TerminalScreen:
    """Redraws the whole screen in the terminal's alternate buffer when it changes."""

    def __init__(self, title: str, controls: str, stream=None, clock=time.monotonic):
        self.title, self.controls = title, controls
        self.stream = stream or sys.stdout
        self.clock = clock
        self._heard: tuple[str, float] | None = None  # (line, until)
        self._last: list | None = None
        _write(self.stream, "\x1b[?1049h\x1b[?25l\x1b[H\x1b[2J")  # alternate screen, no cursor
        self._frames = _FrameWriter(self.stream)

    def show(self, status: Status, paused: bool = False) -> None:
        size = shutil.get_terminal_size((80, 24))
        controls = self.controls
        if self._heard is not None and self.clock() < self._heard[1]:
            controls = self._heard[0]  # the controls' line says what was heard, for a moment
        lines = frame(self.title, status, size.columns, paused, controls, size.lines)
        if lines == self._last:
            return
        self._last = lines
        top = "\x1b[K\r\n" * max(0, (size.lines - len(lines)) // 3)  # a little above the middle
        body = "".join(f"{style}{text}{RESET if style else ''}\x1b[K\r\n" for style, text in lines)
        self._frames.put(f"\x1b[H{top}{body}\x1b[J")  # overwritten in place: no flicker

    def heard(self, word: str) -> None:
        self._heard = (heard_line(word), self.clock() + HEARD_S)

    def note(self, text: str) -> None:
        """A message in place of the status (e.g. while speech is being prepared)."""
        self._last = None
        self._frames.put(f"\x1b[H\x1b[2J\r\n  {text}\r\n")

    def close(self) -> None:
        if self._frames.close():
            _write(self.stream, "\x1b[?25h\x1b[?1049l")  # cursor back, normal screen back


class _FrameWriter:
    """Writes frames on a thread of its own, so a terminal that stops reading (Ctrl-S,
    an unread pty) holds up the picture, never the sound. A frame not yet written is
    replaced by the next one: each frame redraws everything."""

    def __init__(self, stream):
        self.stream = stream
        self._pending: str | None = None
        self._closing = False
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="voicecoach-screen", daemon=True)
        self._thread.start()

    def put(self, text: str) -> None:
        with self._changed:
            self._pending = text
            self._changed.notify()

    def close(self, timeout_s: float = 1.0) -> bool:
        """Write what is pending and stop; False if already closed."""
        with self._changed:
            if self._closing:
                return False
            self._closing = True
            self._changed.notify()
        self._thread.join(timeout_s)
        return True

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._pending is None and not self._closing:
                    self._changed.wait()
                text, self._pending = self._pending, None
            if text is None:
                return
            _write(self.stream, text)


def _write(stream, text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError):
        pass  # the terminal went away (SIGHUP follows): the session stops on that


class LineScreen:
    """Without a terminal: one short line each time the step changes."""

    def __init__(self, title: str, stream=None):
        self.title = title
        self.stream = stream or sys.stdout
        self._last: tuple | None = None
        self._lost = False  # the output failed: no more lines
        self._reader = _pipe_watch(self.stream)

    def show(self, status: Status, paused: bool = False) -> None:
        if self._reader is not None and self._reader.poll(0):
            self._lost = True  # the reader went away (| head) between two lines: stop now, not at the next
            raise Terminated(signal.SIGPIPE)
        key = (status.chapter, status.step, status.text if status.step == "say" else "", paused)
        if key == self._last or (status.step in ("", "ready") and not paused):
            return
        self._last = key
        self._line(f"{clock(status.elapsed_s, millis=False):>5}  {status.chapter}: {self._what(status, paused)}")

    @staticmethod
    def _what(status: Status, paused: bool) -> str:
        if paused:
            return "paused"
        if status.seconds_left is not None:
            return f"{status.step} {countdown(status.seconds_left)} s"
        return textwrap.shorten(status.text, 64, placeholder=" ...")

    def note(self, text: str) -> None:
        self._line(text)

    def heard(self, word: str) -> None:
        self._line(heard_line(word))

    def close(self) -> None:
        pass

    def _line(self, text: str) -> None:
        """One line out. When its reader has gone (``play | head``) the session stops as
        SIGPIPE would stop any program, quietly, its place kept; other failures of the
        output (a full disk) only lose the lines: the session plays on."""
        if self._lost:
            return
        try:
            self.stream.write(text + "\n")
            self.stream.flush()
        except (OSError, ValueError) as error:
            self._lost = True
            if isinstance(error, BrokenPipeError):
                raise Terminated(signal.SIGPIPE) from None


def _pipe_watch(stream):
    """A poll object that reports an error once the reader of ``stream`` (a pipe or a
    socket) has gone, or None for other outputs (a file, a terminal) and streams without a
    descriptor. A line is written only when the step changes, up to a minute apart: this
    notices ``| head`` exiting within a tick instead."""
    try:
        fd = stream.fileno()
        if not (stat.S_ISFIFO(os.fstat(fd).st_mode) or stat.S_ISSOCK(os.fstat(fd).st_mode)):
            return None
    except (AttributeError, OSError, ValueError):
        return None
    watch = select.poll()
    watch.register(fd, select.POLLERR)  # POLLERR and POLLHUP are reported whatever is asked
    return watch
