"""Choosing an engine, and the voice-speed rules every engine shares."""

from __future__ import annotations

from ..errors import InputError

DEFAULT_RATE = 140  # words per minute: calm, clear for someone lying with eyes closed
MIN_RATE, MAX_RATE = 80, 300
ENGINES = ("espeak", "piper")


def check_rate(rate: int | None) -> int:
    """The rate in words per minute, or a clear error naming the allowed range."""
    if rate is None:
        return DEFAULT_RATE
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise InputError(f"--rate: must be a whole number of words per minute from {MIN_RATE} "
                         f"to {MAX_RATE}, got {rate}")
    return rate


def make_synthesizer(engine: str = "espeak", *, voice: str | None = None, rate: int | None = None):
    """A synthesizer for ``engine`` at ``rate`` WPM with ``voice`` (None: the default)."""
    rate = check_rate(rate)
    if engine == "espeak":
        from .pyttsx3_engine import Pyttsx3Synthesizer
        return Pyttsx3Synthesizer(voice=voice, rate=rate)
    if engine == "piper":
        from .piper_engine import PiperSynthesizer  # optional extra: voicecoach[neural]
        return PiperSynthesizer(voice=voice, rate=rate)
    raise InputError(f"--engine: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")


def list_voices(engine: str = "espeak"):
    """``VoiceInfo`` records for ``engine``."""
    if engine == "espeak":
        from .pyttsx3_engine import list_voices as espeak_voices
        return espeak_voices()
    if engine == "piper":
        from .piper_engine import list_voices as piper_voices
        return piper_voices()
    raise InputError(f"--engine: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
