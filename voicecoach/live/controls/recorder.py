"""The microphone's recorder: a ``parec`` or ``arecord`` child process (see ``spoken``),
started, read, and when it dies mid-session reaped and started again.

A recorder can die under a session (the audio server restarted, a USB microphone pulled
out, someone killing it): its output ends. ``Recorder.restart`` then waits for the dead
child (no zombie is left), and starts the first recorder that gives sound again;
``spoken`` says so once and listens on.
"""

from __future__ import annotations

import os
import re
import select
import shutil
import subprocess

from ...errors import AudioDeviceError
from ...processes import stop_process

RATE = 16_000
LATENCY_MS = 20
START_TIMEOUT_S = 3.0
RECORDER_HINT = "install one with: apt-get install pulseaudio-utils (parec) or alsa-utils (arecord)"
MICROPHONE_HINT = "check that a microphone is connected and chosen as the default input"


def recorder_commands(rate: int = RATE) -> list[list[str]]:
    """The capture commands to try, in order, that are installed."""
    candidates = [["parec", "--raw", "--format=s16le", f"--rate={rate}", "--channels=1",
                   f"--latency-msec={LATENCY_MS}"],
                  ["arecord", "-q", "-D", "default", "-f", "S16_LE", "-r", str(rate), "-c", "1",
                   "-t", "raw", f"--period-time={LATENCY_MS * 1000}"]]
    return [c for c in candidates if shutil.which(c[0])]


class Recorder:
    """One recorder child at a time: ``start()`` gives its first bytes, ``stream`` its output,
    ``restart()`` after its output ended, ``stop()`` at the end (idempotent)."""

    def __init__(self, commands: list[list[str]], env: dict | None = None):
        self.commands, self.env = commands, env
        self.process: subprocess.Popen | None = None
        self.name: str | None = None

    @property
    def stream(self):
        return self.process.stdout

    def start(self) -> bytes:
        """Start the first recorder that gives sound within ``START_TIMEOUT_S``; its first
        bytes. ``AudioDeviceError`` (one line, each recorder's reason) when none does."""
        if not self.commands:
            raise AudioDeviceError(f"spoken commands need parec or arecord; {RECORDER_HINT}")
        failures = []
        for command in self.commands:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, env=self.env)
            first = _first_bytes(process, START_TIMEOUT_S)
            if first:
                self.process, self.name = process, os.path.basename(command[0])
                return first
            _end(process)
            failures.append(f"{os.path.basename(command[0])}: {reason(process.stderr.read())}")
        raise AudioDeviceError("cannot record from the default microphone (" + "; ".join(failures)
                               + f"); {MICROPHONE_HINT}")

    def restart(self) -> tuple[int | None, bytes]:
        """After the recorder's output ended: reap it, and start one again. Returns the dead
        one's exit status and the new one's first bytes (raises as ``start`` does)."""
        status = self.reap()
        return status, self.start()

    def reap(self) -> int | None:
        """Wait for the child that stopped (so it does not stay a zombie); its exit status."""
        if self.process is None:
            return None
        process, self.process = self.process, None
        _end(process)
        return process.returncode

    def stop(self) -> None:
        self.reap()


def reason(stderr: bytes) -> str:
    """The one line of a recorder's stderr that says why it failed: arecord follows its
    error with a dump of the device's parameters, ALSA with lines of its own. The
    program's own last error line, without the source location (``main:831:``); else the
    first line; "no sound arrived" when it said nothing."""
    lines = [line.strip() for line in stderr.decode(errors="replace").splitlines() if line.strip()]
    own = [line for line in lines if re.match(r"(arecord|parec|pa_\w+|Connection failure)\b", line)]
    line = (own or lines or ["no sound arrived"])[-1 if own else 0]
    line = re.sub(r"^(arecord|parec): (\w+:\d+: )+", "", line)
    return line if len(line) <= 120 else line[:117] + "..."


def _end(process: subprocess.Popen) -> None:
    """Stop ``process`` if it still runs, and reap it."""
    stop_process(process, grace_s=2)


def _first_bytes(process: subprocess.Popen, timeout_s: float) -> bytes:
    """The recorder's first output, or b'' if it exited or stayed silent that long."""
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    if not ready:
        return b""
    return process.stdout.read1(65536)
