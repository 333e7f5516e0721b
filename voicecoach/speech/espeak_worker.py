"""espeak-ng in a child process of its own, so that a cue that crashes it cannot end a
session: a text such as ".a" repeated a hundred times makes libespeak-ng abort the whole
process ("stack smashing detected"), which no Python code can catch.

One child lives as long as the process that uses it and speaks every cue, one at a time
(starting a Python for each cue would cost more than speaking it). When it dies speaking a
cue, that cue is one ``EngineError`` naming it, and the next cue starts a new child.

The parent writes one JSON line per request to the child's stdin: ``{"voice", "text",
"target", "shown"}`` (the text already carries its rate; ``shown`` names the cue in errors); the child speaks it into ``target`` (a
WAV in the parent's scratch folder) and answers on its own copy of stdout with a status
byte (``+`` the WAV's bytes follow, ``!`` an error message follows), the length (8 bytes)
and the bytes. The child's stdout and stderr go nowhere: what espeak-ng or glibc print
there cannot be mistaken for an answer, or reach the user's screen.

    python -m voicecoach.speech.espeak_worker    # what the parent runs
"""

from __future__ import annotations

import atexit
import json
import os
import select
import signal
import subprocess
import sys
import threading
import time

from ..errors import EngineError

# The child's own start (Python, pyttsx3, libespeak-ng) before its first cue: about 0.3 s,
# allowed 20 s on a loaded machine; each cue has the time the adapter gives it on top.
START_TIMEOUT_S = 20.0
_HEADER = 9  # status byte + length
PARENT_POLL_S = 0.05  # how soon the child notices its parent was killed


class Worker:
    """The parent's side: one child at a time, started when first needed."""

    def __init__(self):
        self.process: subprocess.Popen | None = None
        atexit.register(self.close)

    def speak(self, voice: str, text: str, target: str, timeout_s: float, shown: str) -> bytes:
        """The WAV bytes of ``text``, or an ``EngineError`` naming the cue (``shown``)."""
        started = self.process is None or self.process.poll() is not None
        if started:
            self.process = _start()
        try:
            self.process.stdin.write(json.dumps({"voice": voice, "text": text, "target": target,
                                                "shown": shown}).encode() + b"\n")
            self.process.stdin.flush()
            status, payload = self._answer(timeout_s + (START_TIMEOUT_S if started else 0.0), shown)
        except BrokenPipeError:
            raise self._died(shown) from None
        except BaseException:  # a stop signal, a timeout: its answer must not be taken for the next cue's
            self.close()
            raise
        if status == b"!":
            raise EngineError(payload.decode("utf-8", "replace"))
        return payload

    def _answer(self, timeout_s: float, shown: str) -> tuple[bytes, bytes]:
        deadline = time.monotonic() + timeout_s
        header = self._read(_HEADER, deadline, shown)
        return header[:1], self._read(int.from_bytes(header[1:], "big"), deadline, shown)

    def _read(self, size: int, deadline: float, shown: str) -> bytes:
        pipe, parts, left = self.process.stdout, [], size
        while left:
            if not select.select([pipe], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise EngineError(f"espeak-ng did not finish speaking {shown} in time; reword the cue")
            part = os.read(pipe.fileno(), min(left, 1 << 20))
            if not part:
                raise self._died(shown)
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def _died(self, shown: str) -> EngineError:
        code = self.process.wait()
        self.process = None
        how = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit status {code}"
        return EngineError(f"espeak-ng crashed speaking {shown} ({how}); reword that cue")

    def close(self) -> None:
        """End the child (it ends by itself when its stdin closes; a hung one is killed)."""
        process, self.process = self.process, None
        if process is None:
            return
        process.kill()
        process.wait()
        process.stdin.close()
        process.stdout.close()


def _start() -> subprocess.Popen:
    # its own session: Ctrl-C and Ctrl-Z at the terminal are the parent's to handle;
    # LIBC_FATAL_STDERR_: glibc's "stack smashing detected" goes to the child's stderr
    # (nowhere), not to the terminal
    env = {**os.environ, "LIBC_FATAL_STDERR_": "1"}
    try:
        return subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, env=env, start_new_session=True)
    except OSError as error:
        raise EngineError(f"espeak-ng could not be started ({error})") from None


def main() -> None:
    """The child: answer requests until stdin closes, or the parent is gone."""
    from .espeak_lib import speak_to_wav
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    threading.Thread(target=_end_with, args=(os.getppid(),), daemon=True).start()
    answers = os.fdopen(os.dup(1), "wb")
    silent = os.open(os.devnull, os.O_WRONLY)
    os.dup2(silent, 1)  # whatever else writes to stdout is not an answer
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            status, payload = b"+", speak_to_wav(request["voice"], request["text"], request["target"],
                                                    request["shown"])
        except EngineError as error:
            status, payload = b"!", str(error).encode()
        answers.write(status + len(payload).to_bytes(_HEADER - 1, "big") + payload)
        answers.flush()


def _end_with(parent: int) -> None:
    """Exit as soon as ``parent`` has died (SIGKILL): stdin closes only once the cue being
    spoken is done, and that cue's file must not appear in a scratch folder the next run
    is about to remove. (Not PR_SET_PDEATHSIG: it fires when the parent's *thread* that
    started us ends, and a background thread of a live session may have.)"""
    while os.getppid() == parent:
        time.sleep(PARENT_POLL_S)
    os._exit(0)


if __name__ == "__main__":
    main()
