"""The progress bar the CLI draws on stderr while speech is prepared and a file written."""

from __future__ import annotations

import sys
import time

from .text import clock


class Progress:
    """A one-line bar on stderr, redrawn at most every ``interval_s`` and cleared at the
    end; silent when not ``enabled`` (the CLI enables it only on a terminal).

    ``update(done, total)`` is the progress callback of ``SpeechCache.prefetch`` and of
    ``export_session``; with a ``sample_rate`` the amounts are samples, shown as minutes.
    """

    def __init__(self, label: str, enabled: bool, sample_rate: int | None = None,
                 stream=None, interval_s: float = 0.1):
        self.label, self.enabled, self.sample_rate = label, enabled, sample_rate
        self.stream, self.interval_s = stream or sys.stderr, interval_s
        self.done, self.total, self._drawn_at, self._width = 0, 1, 0.0, 0

    def update(self, done: int, total: int) -> None:
        self.done, self.total = done, max(total, 1)
        now = time.monotonic()
        if self.enabled and (now - self._drawn_at >= self.interval_s or done >= total):
            self._drawn_at = now
            line = self.line()
            self._width = max(self._width, len(line))
            self.stream.write("\r" + line)
            self.stream.flush()


    def line(self, width: int = 30) -> str:
        fraction = min(1.0, self.done / self.total)
        filled = round(fraction * width)
        if self.sample_rate:
            amount = f"{clock(self.done / self.sample_rate, millis=False)} of {clock(self.total / self.sample_rate, millis=False)}"
        else:
            amount = f"{self.done} of {self.total}"
        return f"{self.label} [{'#' * filled}{'.' * (width - filled)}] {fraction:4.0%} {amount}"

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        if self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self.stream.flush()
