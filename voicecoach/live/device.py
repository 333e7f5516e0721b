"""The sound device: ALSA's ``default`` device (PulseAudio or PipeWire on a desktop), behind
a one-method protocol so the player can be tested without one.

``AlsaDevice`` calls libasound itself (ctypes; the library comes with every Linux desktop)
and writes each stream from a thread of ours, so a stop drops what is buffered
(``snd_pcm_drop``: the pulse plugin flushes the server's buffer too) and the sound goes
quiet within one ALSA period (~20 ms) instead of playing the buffer out. With simpleaudio
(``SimpleaudioDevice``, kept for comparison in scripts/bench_pause.py) a stop always drains:
about 0.23 s of sound after a pause.

libasound and simpleaudio are loaded lazily, here only: ``plan`` and ``export`` never need them.
"""

from __future__ import annotations

import ctypes
import re
import threading
from typing import Protocol

import numpy as np

from ..errors import AudioDeviceError

INSTALL_HINT = "install it with: sudo apt-get install libasound2-dev && pip install simpleaudio"
ALSA_HINT = "install it with: sudo apt-get install libasound2"
# The stream's buffer is long, so that our feeding thread, which needs the GIL between
# writes, may be held up that long (speech being prepared in another thread) without the
# sound breaking up; it costs nothing at a stop, which drops it. The period is short: the
# thread writes a period at a time and sees a stop at the next one.
BUFFER_US = 500_000
PERIOD_US = 20_000
_PLAYBACK, _S16_LE, _RW_INTERLEAVED = 0, 2, 3  # snd_pcm_stream_t, snd_pcm_format_t, snd_pcm_access_t


class Playback(Protocol):
    def stop(self) -> None:
        """Stop at once. ``AlsaDevice``: quiet within ~20 ms; simpleaudio: what it has
        buffered, ~0.2 s, still plays out."""

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


class AlsaDevice:
    """One ALSA stream per ``play`` call, opened in the caller's thread and started there
    (its first buffer is written at once, so the start is as prompt as simpleaudio's), then
    fed by a thread of its own until its samples end (drained) or it is stopped (dropped)."""

    def __init__(self, buffer_us: int = BUFFER_US, period_us: int = PERIOD_US):
        self._alsa = _libasound()
        self.buffer_us, self.period_us = buffer_us, period_us
        _silence_alsa_messages()

    def play(self, samples: np.ndarray, sample_rate: int) -> "AlsaPlayback":
        lib = self._alsa
        samples = np.ascontiguousarray(samples, dtype="<i2")
        handle = ctypes.c_void_p()
        _check(lib, lib.snd_pcm_open(ctypes.byref(handle), b"default", _PLAYBACK, 0))
        try:
            _configure(lib, handle, sample_rate, self.buffer_us, self.period_us)
            buffer, period = ctypes.c_ulong(), ctypes.c_ulong()
            _check(lib, lib.snd_pcm_get_params(handle, ctypes.byref(buffer), ctypes.byref(period)))
            playback = AlsaPlayback(lib, handle, samples, max(1, period.value))
            if not playback.write(min(buffer.value, len(samples))):
                raise AudioDeviceError("ALSA: the stream could not be written")
        except BaseException:
            lib.snd_pcm_close(handle)
            raise
        playback.start()
        return playback


class AlsaPlayback:
    """One stream being played; see ``AlsaDevice``. Its handle is used only by the thread
    that holds it (first the caller, then the feeding thread): ALSA handles are not shared."""

    def __init__(self, lib, handle, samples: np.ndarray, period_frames: int):
        self._lib, self._handle, self.samples = lib, handle, samples  # the samples outlive the stream
        self.period_frames = period_frames
        self.written = 0  # frames handed to ALSA so far
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._feed, name="alsa-playback", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()  # the feeding thread drops the stream after its current write

    def is_playing(self) -> bool:
        return self._thread.is_alive()

    def wait_done(self) -> None:
        self._thread.join()

    def write(self, frames: int) -> bool:
        """Write the next ``frames`` (blocks while the buffer is full); False once the
        stream is broken (the server went away)."""
        pointer = self.samples.ctypes.data + 2 * self.written
        done = self._lib.snd_pcm_writei(self._handle, ctypes.c_void_p(pointer), frames)
        if done < 0:  # an underrun (recovered: the stream goes on) or a dead server
            return self._lib.snd_pcm_recover(self._handle, int(done), 1) >= 0
        self.written += done
        return True

    def _feed(self) -> None:
        total, ok = len(self.samples), True
        try:
            while ok and self.written < total and not self._stopped.is_set():
                ok = self.write(min(self.period_frames, total - self.written))
            if ok and not self._stopped.is_set():
                self._lib.snd_pcm_drain(self._handle)  # the end of the samples: let it play out
            else:
                self._lib.snd_pcm_drop(self._handle)
        finally:
            self._lib.snd_pcm_close(self._handle)


def _configure(lib, handle, sample_rate: int, buffer_us: int, period_us: int) -> None:
    """Mono 16-bit at ``sample_rate`` (ALSA resamples if it must), with about the buffer
    and period asked for. The software parameters stay ALSA's defaults: the stream starts
    with the first write, so ``play`` starts the sound itself."""
    params = ctypes.c_void_p()
    _check(lib, lib.snd_pcm_hw_params_malloc(ctypes.byref(params)))
    try:
        _check(lib, lib.snd_pcm_hw_params_any(handle, params))
        _check(lib, lib.snd_pcm_hw_params_set_rate_resample(handle, params, 1))
        _check(lib, lib.snd_pcm_hw_params_set_access(handle, params, _RW_INTERLEAVED))
        _check(lib, lib.snd_pcm_hw_params_set_format(handle, params, _S16_LE))
        _check(lib, lib.snd_pcm_hw_params_set_channels(handle, params, 1))
        _check(lib, lib.snd_pcm_hw_params_set_rate(handle, params, sample_rate, 0))
        for name, value in (("buffer", buffer_us), ("period", period_us)):
            wanted, direction = ctypes.c_uint(value), ctypes.c_int(0)
            setter = getattr(lib, f"snd_pcm_hw_params_set_{name}_time_near")
            _check(lib, setter(handle, params, ctypes.byref(wanted), ctypes.byref(direction)))
        _check(lib, lib.snd_pcm_hw_params(handle, params))
    finally:
        lib.snd_pcm_hw_params_free(params)


def _check(lib, code: int) -> None:
    if code < 0:
        raise AudioDeviceError(f"ALSA: {lib.snd_strerror(code).decode(errors='replace').lower()}")


_LIBASOUND = None


def _libasound():
    """libasound with the prototypes we call (without them ctypes would pass 64-bit
    pointers and sizes as C ints)."""
    global _LIBASOUND
    if _LIBASOUND is not None:
        return _LIBASOUND
    try:
        lib = ctypes.CDLL("libasound.so.2")
    except OSError:
        raise AudioDeviceError(f"ALSA's library (libasound.so.2) is missing; {ALSA_HINT}") from None
    pcm, frames = ctypes.c_void_p, ctypes.c_ulong
    lib.snd_pcm_open.argtypes = [ctypes.POINTER(pcm), ctypes.c_char_p, ctypes.c_int, ctypes.c_int]
    params, uint, pointer = ctypes.c_void_p, ctypes.c_uint, ctypes.POINTER
    lib.snd_pcm_hw_params_malloc.argtypes = [pointer(params)]
    lib.snd_pcm_hw_params_free.argtypes = [params]
    lib.snd_pcm_hw_params_free.restype = None
    lib.snd_pcm_hw_params_any.argtypes = [pcm, params]
    lib.snd_pcm_hw_params.argtypes = [pcm, params]
    for name, kind in (("rate_resample", uint), ("access", ctypes.c_int), ("format", ctypes.c_int),
                       ("channels", uint)):
        getattr(lib, f"snd_pcm_hw_params_set_{name}").argtypes = [pcm, params, kind]
    lib.snd_pcm_hw_params_set_rate.argtypes = [pcm, params, uint, ctypes.c_int]
    for name in ("buffer", "period"):
        setter = getattr(lib, f"snd_pcm_hw_params_set_{name}_time_near")
        setter.argtypes = [pcm, params, pointer(uint), pointer(ctypes.c_int)]
    lib.snd_pcm_get_params.argtypes = [pcm, ctypes.POINTER(frames), ctypes.POINTER(frames)]
    lib.snd_pcm_writei.argtypes = [pcm, ctypes.c_void_p, frames]
    lib.snd_pcm_writei.restype = ctypes.c_long
    lib.snd_pcm_recover.argtypes = [pcm, ctypes.c_int, ctypes.c_int]
    for name in ("snd_pcm_drop", "snd_pcm_drain", "snd_pcm_close"):
        getattr(lib, name).argtypes = [pcm]
    lib.snd_strerror.argtypes = [ctypes.c_int]
    lib.snd_strerror.restype = ctypes.c_char_p
    _LIBASOUND = lib
    return lib


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
