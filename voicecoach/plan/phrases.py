"""The phrase packs: every sentence the coach says that a routine does not write itself,
one YAML file per language (``en.yaml``, ``de.yaml``), chosen by the routine's
``language:`` or ``--language``.

A pack must give every phrase in ``FIELDS`` using only the fields listed for it; a pack
that does not is refused when loaded, naming the key, so a session never stops halfway
for a missing sentence.
"""

from __future__ import annotations

import functools
import string
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

import yaml

from ..errors import InputError
from ..text import clip

PACK_DIR = Path(__file__).parent / "phrases"
# phrase -> the fields its template may use
FIELDS: dict[str, tuple[str, ...]] = {
    "intro": (), "outro": (), "hold": (), "halfway": (), "count_in": (),
    "count_1": (), "count_2": (), "count_3": (),
    "last_one": ("text",), "two_more": ("text",),
    "first_side": ("side",), "next_side": ("side",), "set_of": ("number", "sets"),
    "announce": ("name", "amount"), "reps_one": ("count",), "reps_other": ("count",),
    "on_each_side": ("amount",), "sets_of": ("sets", "amount"),
    "sets_split": ("sets", "amount", "sizes"),
    "level_up_one": ("count", "name", "noun"), "level_up_other": ("count", "name", "noun"),
    "level_down_one": ("count", "name", "noun"), "level_down_other": ("count", "name", "noun"),
    "check_in": (), "check_in_spoken": (),
    "listening": (), "listening_off": (), "media_buttons": (),
    "alternating": ("amount",), "side_cue": ("side", "text"),
    "two_more_each_side": ("text",), "last_each_side": ("text",), "pain_stop": (),
    "rest": ("duration",), "rest_before": ("duration", "name"),
    "minutes_one": ("count",), "minutes_other": ("count",),
    "seconds_one": ("count",), "seconds_other": ("count",),
    "duration_join": ("minutes", "seconds"), "decimal_mark": (),
    # the programme (plan/notes.py): pain last time, pain rising, a week that fell short
    "pain_high": ("pain",), "pain_rising": ("first", "last"),
    "week_short_none": ("planned",), "week_short_some": ("done", "planned"),
    "chapter_intro": (), "chapter_finish": (),  # the titles of the first and last chapters
}


@dataclass(frozen=True)
class Phrases:
    """One language's pack. ``voices`` maps an engine to its voice for this language;
    ``sides`` the usual side names (``left``, ``right`` and the language's own, lower case)
    to this language's words for them."""

    language: str
    name: str
    voices: Mapping[str, str]
    texts: Mapping[str, str]
    sides: Mapping[str, str] = field(default_factory=dict)

    def say(self, key: str, **fields) -> str:
        """The phrase ``key`` with its fields; a ``side`` is said in this language (``side``)."""
        if "side" in fields:
            fields["side"] = self.side(fields["side"])
        return self.texts[key].format(**fields)

    def side(self, name: str | None) -> str | None:
        """A side as this language says it: ``left`` is ``links`` in German, ``Left`` is
        ``Links``; a name the pack does not know is said as the routine writes it."""
        if name is None or name.lower() not in self.sides or self.sides[name.lower()] == name.lower():
            return name
        word = self.sides[name.lower()]
        return word[:1].upper() + word[1:] if name[:1].isupper() else word

    def count_word(self, number: int) -> str:
        return self.texts[f"count_{number}"]

    def amount(self, count: int, one: str, other: str) -> str:
        return self.say(one if count == 1 else other, count=count)

    def duration(self, seconds: float) -> str:
        """Speakable: ``1 minute 30 seconds``, ``10 seconds``, ``1.5 seconds``."""
        minutes, rest = divmod(round(seconds, 3), 60)
        number = f"{rest:g}".replace(".", self.texts["decimal_mark"])
        spoken_seconds = self.say("seconds_one" if number == "1" else "seconds_other", count=number)
        if not minutes:
            return spoken_seconds
        spoken_minutes = self.amount(int(minutes), "minutes_one", "minutes_other")
        if not rest:
            return spoken_minutes
        return self.say("duration_join", minutes=spoken_minutes, seconds=spoken_seconds)


def languages() -> list[str]:
    """The languages with a pack, e.g. ``['de', 'en']``."""
    return sorted(p.stem for p in PACK_DIR.glob("*.yaml"))


def language_code(text: str) -> str:
    """A language code as the packs are named: language codes are case-insensitive
    (``DE`` is ``de``) wherever they are given: a routine, ``--language``, the settings."""
    return text.strip(" \t\r\n").lower()  # the spaces the schema's pattern allows (routine.schema)


def no_pack(code: str) -> str | None:
    """Why no pack speaks ``code`` (naming the known languages), or None when one does."""
    if language_code(code) in languages():
        return None
    return f"no phrase pack for {clip(code)!r}; known languages: {', '.join(languages())}"


@functools.lru_cache(maxsize=None)
def load_phrases(language: str = "en") -> Phrases:
    """The pack for ``language`` (any case), checked whole; an ``InputError`` names what is wrong."""
    if no_pack(language):
        raise InputError(f"language: {no_pack(language)}")
    language = language_code(language)
    return parse_pack((PACK_DIR / f"{language}.yaml").read_text(encoding="utf-8"), f"{language}.yaml")


def parse_pack(text: str, name: str) -> Phrases:
    """A pack from its YAML text; ``name`` is how errors call it."""
    data = yaml.safe_load(text)
    if not isinstance(data, dict) or not isinstance(data.get("phrases"), dict):
        raise InputError(f"phrase pack {name}: must be a mapping with language:, name: and phrases:")
    texts = data["phrases"]
    for key, allowed in FIELDS.items():
        if not isinstance(texts.get(key), str) or not texts[key]:
            raise InputError(f"phrase pack {name}: phrases.{key} is missing; add it as text")
        used = {field for _, field, _, _ in string.Formatter().parse(texts[key]) if field is not None}
        if not used <= set(allowed):
            wrong = ", ".join(sorted(used - set(allowed)))
            raise InputError(f"phrase pack {name}: phrases.{key} uses {{{wrong}}}; it may use "
                             f"{', '.join('{' + f + '}' for f in allowed) or 'no fields'}")
    unknown = sorted(set(texts) - set(FIELDS))
    if unknown:
        raise InputError(f"phrase pack {name}: unknown phrase {unknown[0]!r}")
    sides = data.get("sides") or {}
    if not isinstance(sides, dict) or not all(isinstance(v, str) and v for v in [*sides, *sides.values()]):
        raise InputError(f"phrase pack {name}: sides must map side names to words, e.g. left: links")
    return Phrases(str(data.get("language")), str(data.get("name")), dict(data.get("voices") or {}),
                   dict(texts), MappingProxyType({key.lower(): word for key, word in sides.items()}))
