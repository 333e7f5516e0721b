"""The sound device: simpleaudio on ALSA's ``default`` device (PulseAudio or PipeWire on
a desktop), behind a one-method protocol so the player can be tested without one.

simpleaudio is imported lazily, here only: ``plan`` and ``export`` never need it.
"""

from __future__ import annotations

import ctypes
import re
from typing import Protocol

import numpy as np

from ..errors import AudioDeviceError

INSTALL_HINT = "install it with: sudo apt-get install libasound2-dev && pip install simpleaudio"


class Playback(Protocol):
    def stop(self) -> None:
        """Stop at once (what the device has buffered, ~0.1 s, still plays out)."""

    def is_playing(self) -> bool:
        ...


class SoundDevice(Protocol):
    def play(self, samples: np.ndarray, sample_rate: int) -> Playback:
        """Start playing mono int16 ``samples`` now, in the background.
        Raises ``AudioDeviceError`` when no stream can be opened."""


class SimpleaudioDevice:
    """One ALSA stream per ``play`` call (simpleaudio cannot stream into an open one)."""

    def __init__(self):
        try:
            import simpleaudio
        except ImportError:
            raise AudioDeviceError(f"simpleaudio is not installed; {INSTALL_HINT}") from None
        self._simpleaudio = simpleaudio
        _silence_alsa_messages()

    def play(self, samples: np.ndarray, sample_rate: int) -> Playback:
        samples = np.ascontiguousarray(samples, dtype="<i2")
        try:
            handle = self._simpleaudio.play_buffer(samples, 1, 2, sample_rate)
        except self._simpleaudio._simpleaudio.SimpleaudioError as error:
            raise AudioDeviceError(describe_alsa_error(str(error))) from None
        handle.samples = samples  # the C thread reads this buffer: keep it alive while playing
        return handle


def describe_alsa_error(message: str) -> str:
    """simpleaudio's "Error opening PCM device. -- CODE: -111 -- MSG: Connection refused"
    -> "ALSA: connection refused"."""
    reason = re.search(r"MSG: (.*)$", message)
    detail = reason.group(1).strip().rstrip(".") if reason else ""
    return f"ALSA: {(detail or message).lower()}"


_HANDLER = None  # the C callback must outlive every call ALSA makes to it


def _silence_alsa_messages() -> None:
    """ALSA prints its own errors (e.g. "ALSA lib pulse.c:242:(pulse_connect) ...") on
    stderr; ours say the same in one line, so its printer is replaced by a no-op."""
    global _HANDLER
    if _HANDLER is not None:
        return
    try:
        library = ctypes.CDLL("libasound.so.2")
    except OSError:
        return
    # The real signature is variadic; the extra arguments are simply never read.
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                 ctypes.c_int, ctypes.c_char_p)
    _HANDLER = prototype(lambda *args: None)
    library.snd_lib_error_set_handler(_HANDLER)
