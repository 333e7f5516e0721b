"""The pyttsx3 adapter (espeak-ng on Linux): its voices, its speed, and the synthesizer,
which speaks each cue in a child process (``espeak_worker``, running ``espeak_lib``, where
the quirks of writing a WAV are handled). Here:

- ``getProperty('rate')`` can report a rate that was not applied, and
  ``setProperty('rate')`` is itself often ignored after the first utterance: the rate
  goes inside the text as an espeak-ng command, and is part of the cache identity;
pyttsx3 is imported lazily so that planning with a cache or a fake never needs it.
"""

from __future__ import annotations

import difflib
import unicodedata

from ..audio import Audio
from ..errors import EngineError, InputError
from ..text import clip
from . import VoiceInfo
from .cache import scratch_folder
from .espeak_lib import INSTALL_HINT, LOCK, shared_engine, synthesis_timeout_s

DEFAULT_VOICE = "gmw/en-us"
SAMPLE_RATE = 22_050
# A lone count word is spoken at its own speed, whatever the session's rate. Judged by
# Whisper base (scripts/intelligibility.py) with 0.3 s of silence around each word, the
# en-us voice's "One" is heard as "Wow" at 160 WPM and below, and its "Three" as "Free" from
# 130 WPM up; at these rates each was heard right every time (100-210 WPM tried).
COUNT_WORD_RATES = {"one": 190, "two": 140, "three": 110}
COUNT_RATES_ID = "counts1"  # in the cache identity: change it when the table changes
_WORKER = None
# the child's answer may take this long beyond espeak-ng's own time (synthesis_timeout_s)
ANSWER_MARGIN_S = 5.0


def list_voices() -> list[VoiceInfo]:
    with LOCK:  # in this process: listing voices cannot crash espeak-ng
        voices = shared_engine().getProperty("voices")
    return sorted((VoiceInfo(v.id.lower(), v.name, tuple(_text(l) for l in v.languages or ()))
                   for v in voices), key=lambda v: v.id)


def _text(value) -> str:
    return value.decode("utf-8", "replace").lstrip("\x05") if isinstance(value, bytes) else str(value)


def check_voice(voice: str | None) -> str:
    """The voice id to use, or an ``InputError`` naming the closest matches.

    A voice may be named by its id (``gmw/en-us``), the id's last part (``en-us``), its
    name (``English (America)``) or its language (``en-us``), in any letter case.
    """
    if voice is None:
        return DEFAULT_VOICE
    voices = list_voices()
    aliases = _aliases(voices)
    matches = aliases.get(voice.strip().lower(), set())
    if len(matches) == 1:
        return next(iter(matches))
    if matches:
        raise InputError(f"--voice: {voice!r} names several voices ({', '.join(sorted(matches))}); "
                         "give one of those ids")
    close = difflib.get_close_matches(voice.strip().lower(), list(aliases), n=10, cutoff=0.6)
    ids = list(dict.fromkeys(id_ for alias in close for id_ in sorted(aliases[alias])))[:3]
    names = {info.id: info.name for info in voices}
    hint = f"; closest: {', '.join(f'{id_} ({names[id_]})' for id_ in ids)}" if ids else ""
    raise InputError(f"--voice: unknown voice {voice!r}{hint} (see 'voicecoach voices')")


def _aliases(voices: list[VoiceInfo]) -> dict[str, set[str]]:
    """Every lower-case name a voice can be called by -> the ids it may mean."""
    aliases: dict[str, set[str]] = {}
    for info in voices:
        for alias in (info.id, info.id.rsplit("/", 1)[-1], info.name.lower(), *info.languages):
            aliases.setdefault(alias.lower(), set()).add(info.id)
    return aliases


class Pyttsx3Synthesizer:
    """``synthesize(text)``: untrimmed 22.05 kHz mono speech from espeak-ng via pyttsx3,
    spoken in a child process (``espeak_worker``): a cue that crashes espeak-ng is one
    ``EngineError`` naming it, and the process, a live session included, goes on."""

    sample_rate = SAMPLE_RATE

    def __init__(self, voice: str | None = None, rate: int = 140):
        self.voice = check_voice(voice)
        self.rate = rate
        self.identity = f"pyttsx3-espeak:{_engine_version()}:{self.voice}:{rate}:{COUNT_RATES_ID}"

    def synthesize(self, text: str) -> Audio:
        with LOCK, scratch_folder() as folder:  # in the cache folder: a killed run's is cleared
            data = _worker().speak(self.voice, _with_rate(text, spoken_rate(text, self.rate)), str(folder / "cue.wav"),
                                   synthesis_timeout_s(text) + ANSWER_MARGIN_S, repr(clip(text, 40)))
        return Audio.from_wav_bytes(data)


def _worker():
    """The process's one espeak-ng child (``espeak_worker.Worker``), made on first use."""
    global _WORKER
    if _WORKER is None:
        from .espeak_worker import Worker
        _WORKER = Worker()
    return _WORKER


def spoken_rate(text: str, rate: int) -> int:
    """The rate ``text`` is spoken at: its own for a lone count word ("Three"), else ``rate``."""
    return COUNT_WORD_RATES.get(text.strip().rstrip(".!").lower(), rate)


def _with_rate(text: str, rate: int) -> str:
    """``text`` spoken at ``rate`` WPM, by an espeak-ng embedded command (Ctrl-A, "140S").

    ``setProperty('rate')`` is not reliable: once a first utterance has run, espeak-ng
    often ignores the new rate (it reaches espeak's command queue, which pyttsx3 then
    cancels). A command inside the text itself always applies. Control characters in
    the text are dropped, so a routine cannot smuggle in commands of its own.
    """
    clean = "".join(" " if unicodedata.category(c) == "Cc" else c for c in text)
    return f"\x01{rate}S{clean}"


def _engine_version() -> str:
    """Part of the cache key: another espeak-ng or pyttsx3 may speak the text differently."""
    from importlib.metadata import version
    try:
        from pyttsx3.drivers import _espeak  # loads libespeak-ng, or raises RuntimeError
    except (ImportError, RuntimeError, OSError) as error:
        raise EngineError(f"espeak-ng cannot be used ({error}); {INSTALL_HINT}") from None
    return f"{(_espeak.Info(None) or b'?').decode()}+pyttsx3-{version('pyttsx3')}"
