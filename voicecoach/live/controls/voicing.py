"""Is an utterance a voice at all? A gate before the recognizer, so noise never becomes a
command.

The recognizer matches whatever it is given against the few command words, and a
grammar has no "none of these": 640 s of loud noise into the microphone gave 8 commands
(45 an hour). A spoken word has voiced sound in it, a vowel: a pitch, the same waveform
repeating every 2.5 to 17 ms (60 to 400 Hz), with harmonics above it. Noise has none of
that: hiss (white, pink) does not repeat; rumble (brown noise) decays slowly instead of
repeating, with no dip between one period and the next; a hum or a beep is one pure
tone, with no harmonics. So a 30 ms frame counts as voiced when its autocorrelation dips
below 0.1 and peaks above 0.5 at a pitch's lag, and less than 80% of its energy is in
that first harmonic; an utterance needs ``MIN_VOICED_S`` of voiced frames.

Measured offline (tests/test_spoken.py, scripts/bench_spoken.py for the live figures):
of 194 utterances cut from 640 s of mixed noise (hiss, rumble, bursts, clicks, hums) the
recognizer made 46 commands, the gate lets none through; of 96 command words (4 voices,
3 speeds) it stops 2, both from espeak-ng's breathy en-us+m3 at its fastest.
"""

from __future__ import annotations

import numpy as np

RATE = 16_000
FRAME, HOP = 480, 160                         # 30 ms windows, every 10 ms
MIN_LAG, MAX_LAG = RATE // 400, RATE // 60    # the period of a voice's pitch, in samples
PERIODIC = 0.5          # the autocorrelation's peak at the pitch's lag, of its value at 0
DIP = 0.1               # ... after dipping below this (rumble decays slowly, never dips)
MAX_FIRST_HARMONIC = 0.8  # a pure tone has all its energy there, a vowel spreads it
MIN_VOICED_S = 0.03     # the quickest command measured had 0.04 s


def voiced_s(audio: bytes) -> float:
    """Seconds of voiced frames (see the module) in ``audio`` (s16le mono at 16 kHz)."""
    return float(_voiced(audio).sum() * HOP / RATE)


def is_voice(audio: bytes) -> bool:
    return voiced_s(audio) >= MIN_VOICED_S


def voiced_span(audio: bytes) -> tuple[float, float] | None:
    """Where the voice is in ``audio``: seconds from its start to the first voiced frame's
    start and to the last one's end; None when it is not a voice (``is_voice``). The
    voice detector's utterance runs about 0.2 s past the word; this is the word itself."""
    voiced = _voiced(audio)
    if voiced.sum() * HOP / RATE < MIN_VOICED_S:
        return None
    where = np.flatnonzero(voiced)
    return float(where[0] * HOP / RATE), float((where[-1] * HOP + FRAME) / RATE)


def _voiced(audio: bytes) -> np.ndarray:
    """For each 30 ms frame (every 10 ms) of ``audio``, whether it is voiced."""
    samples = np.frombuffer(audio, "<i2").astype(np.float64)
    if len(samples) < FRAME:
        return np.zeros(0, bool)
    frames = np.lib.stride_tricks.sliding_window_view(samples, FRAME)[::HOP]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).mean(axis=1)
    loud = energy > max(100.0, 0.05 * energy.mean())
    return loud & _periodic(frames) & (_first_harmonic_share(frames) < MAX_FIRST_HARMONIC)


def _autocorrelation(frames: np.ndarray) -> np.ndarray:
    power = np.abs(np.fft.rfft(frames, 1024, axis=1)) ** 2
    ac = np.fft.irfft(power, axis=1)[:, :MAX_LAG + 1]
    return ac / np.maximum(ac[:, :1], 1e-9)


def _pitch_lag(ac: np.ndarray) -> np.ndarray:
    return MIN_LAG + ac[:, MIN_LAG:].argmax(axis=1)


def _periodic(frames: np.ndarray) -> np.ndarray:
    ac = _autocorrelation(frames)
    lag, rows = _pitch_lag(ac), np.arange(len(ac))
    dip = np.minimum.accumulate(ac, axis=1)[rows, lag - 1]
    return (ac[rows, lag] > PERIODIC) & (dip < DIP)


def _first_harmonic_share(frames: np.ndarray) -> np.ndarray:
    """The share of each frame's energy (47 Hz to 4 kHz) within a third of its pitch
    around the pitch itself."""
    lag = _pitch_lag(_autocorrelation(frames))
    power = np.abs(np.fft.rfft(frames * np.hanning(FRAME), 1024, axis=1)) ** 2
    pitch_bin = np.round(1024 / lag).astype(int)[:, None]
    bins = np.arange(power.shape[1])[None, :]
    near = np.abs(bins - pitch_bin) <= np.maximum(1, pitch_bin // 3)
    return (power * near).sum(axis=1) / (power[:, 3:257].sum(axis=1) + 1e-9)
