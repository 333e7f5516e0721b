"""Stop signals, one way for every command: SIGTERM and SIGHUP stop a command as Ctrl-C
does (its clean-up runs, a live session keeps its place), and a shell sees 128 + the
signal's number; ``signals_held`` makes a few steps (renaming finished files into place)
happen all together or not at all.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from typing import Iterator

STOPPING = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP arrived: stop as on Ctrl-C, but let the caller tell them apart
    (catch ``Terminated`` before ``KeyboardInterrupt``; exit 128 + ``signum``)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_signals() -> Iterator[None]:
    """While inside, SIGTERM and SIGHUP raise ``Terminated`` in the main thread, so the
    same path as Ctrl-C runs (clean-up, the place kept). Elsewhere it does nothing: only
    the main thread runs signal handlers."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise Terminated(signum)

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM and SIGHUP: one arriving now is raised again on leaving,
    to the handler that was there before.

    Not ``pthread_sigmask``: it masks one thread, and espeak's threads would still take
    the signal and have Python run its handler in the main thread mid-way.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    arrived: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, frame: arrived.append(signum)) for sig in STOPPING}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if arrived:
            signal.raise_signal(arrived[0])
