"""A session request, and the one way from it to today's routine.

Every front end (``play``, ``export`` and ``plan`` on the command line; any other) says
what it wants as a ``SessionRequest``: the routine, the voice and the level choice. The
one function ``resolve`` turns it into a ``Today``: the routine loaded, in the language
asked for, at today's levels from the history, with its phrase pack and its voice, ready
for ``prepare``. An option added to a session is a field here and its use there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields

from ..config import load_settings
from ..defaults import DEFAULTS
from ..errors import InputError
from ..history.journal import parse_level, todays_routine
from ..plan.phrases import language_code, load_phrases, no_pack
from ..routine import load_routine
from ..speech.engines import voice_language_mismatch
from .prepare import Today, with_language


@dataclass(frozen=True)
class SessionRequest:
    """What a session is asked for, with the shipped defaults (``SessionRequest("back-pain")``;
    ``from_settings`` applies the user's settings instead).

    ``routine``: a built-in name or a routine file; ``engine``, ``voice``, ``rate`` (words per
    minute) and ``language`` as ``--engine`` and friends take them (None: the engine's voice for
    the language, the routine's own language); ``level``: None (today's, from the history),
    ``'fresh'`` or a number of reps, as ``--level`` takes it (its text is parsed here).
    """

    routine: str
    engine: str = DEFAULTS["engine"]
    voice: str | None = DEFAULTS["voice"]
    rate: int | None = DEFAULTS["rate"]
    language: str | None = DEFAULTS["language"]
    level: str | int | None = None

    def __post_init__(self):
        if self.language is not None:  # codes in any case, as in a routine and the settings
            if no_pack(self.language):
                raise InputError(f"--language: {no_pack(self.language)}")
            object.__setattr__(self, "language", language_code(self.language))
        if self.level is not None:  # "3" and 3 alike; 0, -1, True or "lots" are one error line
            object.__setattr__(self, "level", parse_level(str(self.level)))

    @classmethod
    def from_settings(cls, routine: str, settings=None, **options) -> SessionRequest:
        """A request whose options not given default to the user's settings
        (``config.load_settings()``, or ``settings`` of that shape), as on the command line."""
        settings = load_settings() if settings is None else settings
        named = {f.name for f in fields(cls)} & set(settings)
        return cls(routine, **{**{key: settings[key].value for key in named}, **options})


def resolve(request: SessionRequest, *, synthesizer=None,
            warn: Callable[[str], None] | None = None) -> Today:
    """Today's routine for ``request``: loaded, in its language, at today's levels (or the
    ``level`` asked for), with its phrases and its synthesizer (``synthesizer`` if given: tests
    pass fakes). A history that cannot be read is one ``warn`` line; errors raise
    ``VoicecoachError``s (a bad routine, language, level or voice)."""
    own = load_routine(request.routine)
    loaded = with_language(own, request.language)
    for line in language_warnings(own.language, request):
        (warn or (lambda _: None))(line)
    routine, levels = todays_routine(request.routine, loaded, request.level, warn=warn)
    return Today(routine, load_phrases(routine.language), levels, request.engine, request.voice,
                 request.rate, synthesizer)


def language_warnings(own: str, request: SessionRequest) -> list[str]:
    """What a session in another language than the routine's, or a voice that does not
    speak the session's language, should be told: one line each."""
    language = request.language or own
    lines = []
    if language != own:  # the pack changes the coach's words only
        lines.append(f"Warning: --language {language} changes only the coach's own words; the routine's "
                     f"texts are in its language ({own}) and are spoken as written")
    mismatch = voice_language_mismatch(request.engine, request.voice, language)
    if mismatch:
        lines.append(f"Warning: {mismatch}")
    return lines
