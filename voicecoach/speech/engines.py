"""Choosing an engine, and the voice-speed rules every engine shares."""

from __future__ import annotations

import importlib

from ..config import DEFAULTS
from ..errors import InputError

# words per minute: 140 is calm, clear for someone lying with eyes closed
DEFAULT_ENGINE, DEFAULT_RATE = DEFAULTS["engine"], DEFAULTS["rate"]
MIN_RATE, MAX_RATE = 80, 300
# engine -> (its adapter module, its synthesizer class), imported only when chosen: piper
# is the optional extra voicecoach[neural], and planning from the cache needs neither.
_ADAPTERS = {"espeak": (".pyttsx3_engine", "Pyttsx3Synthesizer"),
             "piper": (".piper_engine", "PiperSynthesizer")}
ENGINES = tuple(_ADAPTERS)


def check_rate(rate: int | None) -> int:
    """The rate in words per minute, or a clear error naming the allowed range."""
    if rate is None:
        return DEFAULT_RATE
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise InputError(f"--rate: must be a whole number of words per minute from {MIN_RATE} "
                         f"to {MAX_RATE}, got {rate}")
    return rate


def make_synthesizer(engine: str = DEFAULT_ENGINE, *, voice: str | None = None, rate: int | None = None):
    """A synthesizer for ``engine`` at ``rate`` WPM with ``voice`` (None: the default)."""
    rate = check_rate(rate)
    module, synthesizer = _adapter(engine)
    return getattr(module, synthesizer)(voice=voice, rate=rate)


def list_voices(engine: str = DEFAULT_ENGINE):
    """``VoiceInfo`` records for ``engine``."""
    module, _ = _adapter(engine)
    return module.list_voices()


def _adapter(engine: str):
    """The adapter module of ``engine`` and the name of its synthesizer class."""
    if engine not in _ADAPTERS:
        raise InputError(f"--engine: unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    module, synthesizer = _ADAPTERS[engine]
    return importlib.import_module(module, __package__), synthesizer
