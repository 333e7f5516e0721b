"""The voices a session can speak with: every installed engine's voices, each marked with
the languages it speaks by default (``voicecoach voices``).

Which voice is a language's default is decided where a session decides it: the engine
``auto`` stands for (``speech.engines.resolve_engine``), then the phrase pack's voice for
that engine, else the engine's first voice (as ``prepare.make_voice`` does).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..defaults import AUTO, ENGINES
from ..errors import EngineError
from ..plan.phrases import languages, load_phrases
from ..speech import VoiceInfo
from ..speech.engines import list_voices, resolve_engine


@dataclass(frozen=True)
class VoiceRow:
    """One voice of one engine, and the languages (``default_for``) it speaks unless told."""

    engine: str
    voice: VoiceInfo
    default_for: tuple[str, ...]


def voice_rows(engine: str = AUTO) -> list[VoiceRow]:
    """The voices of ``engine``; for ``auto``, of every engine installed here (one that is
    not is left out; none at all raises its ``EngineError``)."""
    listed, failures = {}, []
    for name in (ENGINES if engine == AUTO else (engine,)):
        try:
            listed[name] = list_voices(name)
        except EngineError as error:
            failures.append(error)
    if not listed:
        raise failures[0]
    defaults = _defaults(engine, listed)
    return [VoiceRow(name, info, tuple(sorted(code for code, used in defaults.items() if used == (name, info.id))))
            for name, voices in listed.items() for info in voices]


def _defaults(engine: str, listed: dict[str, list[VoiceInfo]]) -> dict[str, tuple[str, str]]:
    """Language -> the (engine, voice id) a session in it speaks with when no voice is given."""
    chosen = {}
    for code in languages():
        name = resolve_engine(engine, None, code)
        if listed.get(name):
            chosen[code] = (name, load_phrases(code).voices.get(name) or listed[name][0].id)
    return chosen


def voice_lines(rows: list[VoiceRow]) -> list[str]:
    """Tab-separated lines: engine, id, name, languages, and "default: en" where it is."""
    return ["\t".join([row.engine, row.voice.id, row.voice.name, ", ".join(row.voice.languages)]
                      + ([f"default: {', '.join(row.default_for)}"] if row.default_for else []))
            for row in rows]
