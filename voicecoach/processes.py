"""Stopping a child process we started: politely first, then for certain.

One way for every child (the microphone's recorder, and the private audio server and
session bus the tests and the benchmark start): SIGTERM lets it flush and close what it
holds; one that has not exited after ``grace_s`` is killed, and it is always reaped, so no
zombie and no open pipe outlives the call.
"""

from __future__ import annotations

import subprocess

GRACE_S = 5.0  # a daemon (pulseaudio, dbus-daemon) shuts down well within this when idle
KILLED_WAIT_S = 10.0  # SIGKILL cannot be refused; this only bounds a process stuck in the kernel


def stop_process(process: subprocess.Popen | None, grace_s: float = GRACE_S) -> int | None:
    """Terminate ``process``, wait up to ``grace_s`` seconds, then kill it; reap it either way.

    Returns its exit status (negative: the signal that ended it), or None for no process.
    A process that has already exited is only reaped; calling this twice is harmless.
    """
    if process is None:
        return None
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait(timeout=KILLED_WAIT_S)
