"""Ctrl-C before the commands can handle it: while the program's modules are still being
imported (about 0.2 s), a SIGINT ends the process with "Stopped." and exit status 130,
as it does later on, instead of a ``KeyboardInterrupt`` traceback.

Imported first by ``cli``, so it imports nearly nothing: ``_signal`` (the C module behind
``signal``, which would first import ``enum``) and ``os``, both loaded at start-up.
"""

import _signal
import os


def exit_on_interrupt():
    """Until ``restore_interrupt``: Ctrl-C ends the process at once, with "Stopped." and
    exit status 130 (nothing to clean up yet, hence ``os._exit``). Returns the handler to
    put back; leaves alone a SIGINT that is ignored or someone else's (a program that
    imports us, a test runner)."""
    if _signal.getsignal(_signal.SIGINT) is not _signal.default_int_handler:
        return None

    def stop(signum, frame):
        os.write(2, b"Stopped.\n")
        os._exit(130)
    return _signal.signal(_signal.SIGINT, stop)


def restore_interrupt(previous) -> None:
    """Undo ``exit_on_interrupt`` (given what it returned)."""
    if previous is not None:
        _signal.signal(_signal.SIGINT, previous)
