"""Today's routine, at its levels, with the synthesizer that will speak it: the one place
the feed asks for it. Planning and synthesis wait until an episode is really made, so a
feed with nothing new to publish costs no speech."""

from __future__ import annotations

from dataclasses import dataclass

from ..routine import Routine


@dataclass(frozen=True)
class Today:
    """``source`` as the history knows it (a built-in's name, else the file's absolute
    path), ``routine`` at today's levels, ``levels`` (name -> ``Level``) of the exercises
    that build up, and the ``synthesizer`` that speaks it."""

    source: str
    routine: Routine
    levels: dict
    synthesizer: object
    language: str | None = None


def resolve_today(source: str, *, engine: str, voice: str | None = None, rate: int | None = None,
                  language: str | None = None, synthesizer=None, warn=None) -> Today:
    """Today's routine ``source`` at its levels and its voice (``synthesizer`` overrides the
    engine: tests use fakes). Raises the errors of loading, the history and the engine."""
    from ..history.journal import history_name, todays_routine
    from ..routine import load_routine
    from ..session.prepare import make_voice, with_language
    from ..plan.phrases import load_phrases
    loaded = load_routine(source)
    routine, levels = todays_routine(source, loaded, language=language, warn=warn)
    routine = with_language(routine, language)
    synth = synthesizer or make_voice(engine, voice, rate, load_phrases(routine.language))
    return Today(history_name(source), routine, levels, synth, language)


def prepare_today(today: Today):
    """The planned ``Session`` of ``today`` (synthesizing what the cache does not hold)."""
    from ..session.prepare import prepare
    return prepare(today.routine, synthesizer=today.synthesizer, language=today.language)


def resolvers(routines, *, engine: str, voice: str | None = None, rate: int | None = None,
              language: str | None = None, warn=None) -> list:
    """One callable per routine that resolves it when called (at each publish: the levels
    move with the history). The routines are loaded now, so a bad one fails at once."""
    from ..routine import load_routine
    for source in routines:
        load_routine(source)
    return [lambda source=source: resolve_today(source, engine=engine, voice=voice, rate=rate,
                                                language=language, warn=warn)
            for source in routines]
