"""``stop_process``: SIGTERM, a grace period, then SIGKILL; always reaped. With real children."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from voicecoach.processes import stop_process

pytestmark = pytest.mark.slow  # every test here starts a process

SLEEPS = "import time; print('ready', flush=True); time.sleep(60)"
IGNORES_TERM = "import signal; signal.signal(signal.SIGTERM, signal.SIG_IGN); " + SLEEPS


def child(code: str) -> subprocess.Popen:
    """A Python child that has run up to its 'ready' line (its signal handling is in place)."""
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline() == "ready\n"
    return process


def gone(pid: int) -> bool:
    """True once no process (not even a zombie) has ``pid``: it has been reaped."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_a_child_that_obeys_sigterm_ends_by_it_at_once():
    process = child(SLEEPS)
    started = time.monotonic()
    assert stop_process(process, grace_s=30) == -signal.SIGTERM
    assert time.monotonic() - started < 5
    assert gone(process.pid)


def test_a_child_that_ignores_sigterm_is_killed_after_the_grace_period():
    process = child(IGNORES_TERM)
    started = time.monotonic()
    assert stop_process(process, grace_s=0.5) == -signal.SIGKILL
    assert 0.5 <= time.monotonic() - started < 5
    assert gone(process.pid)


def test_an_exited_child_is_only_reaped_and_stopping_twice_is_harmless():
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)  # until it exits, left unreaped
    assert not gone(process.pid)  # a zombie: only reaping removes it
    assert stop_process(process) == 3
    assert gone(process.pid)
    assert stop_process(process) == 3


def test_no_process_is_nothing_to_stop():
    assert stop_process(None) is None
