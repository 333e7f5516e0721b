"""Keys from a real pseudo-terminal, and the signals that stop a session cleanly."""

from __future__ import annotations

import io
import os
import signal
import termios
import time

import pytest

from voicecoach.live.commands import Command
from voicecoach.live.controls.keys import Keys
from voicecoach.signals import Terminated, stop_signals


@pytest.fixture
def terminal():
    main, side = os.openpty()
    stream = os.fdopen(side, "r")
    yield main, stream
    stream.close()
    os.close(main)


def test_keys_arrive_one_by_one_without_enter_and_the_terminal_is_restored(terminal):
    main, stream = terminal
    before = termios.tcgetattr(stream.fileno())
    with Keys(stream) as keys:
        assert keys.interactive
        assert not termios.tcgetattr(stream.fileno())[3] & termios.ICANON  # no line editing
        assert keys.wait(0.05) is None
        os.write(main, b" ")
        assert keys.wait(1.0) == Command.PAUSE
        os.write(main, b"nprQx")  # typed together; unknown keys are ignored
        assert [keys.wait(1.0) for _ in range(4)] == [Command.NEXT, Command.PREVIOUS, Command.REPEAT,
                                                      Command.QUIT]
        assert keys.wait(0.05) is None
    assert termios.tcgetattr(stream.fileno()) == before


def test_without_a_terminal_there_are_no_keys_and_wait_just_waits():
    keys = Keys(io.StringIO(" nq"))
    with keys:
        started = time.monotonic()
        assert keys.wait(0.05) is None
        assert time.monotonic() - started >= 0.04
    assert not keys.interactive


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_stop_signals_raise_terminated_and_are_restored(signum):
    before = signal.getsignal(signum)
    with pytest.raises(Terminated) as stopped:
        with stop_signals():
            os.kill(os.getpid(), signum)
            time.sleep(1)  # the handler runs before this returns
    assert stopped.value.signum == signum
    assert signal.getsignal(signum) is before
