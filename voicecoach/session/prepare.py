"""One prepared session: routine + voice + chimes + the timeline planned from them.

``prepare`` is what every command calls: given today's routine (``Today``, which
``session.request.resolve`` makes from a request), it synthesizes (or takes from the
cache) every cue at the chosen voice and rate, and plans the timeline with their real
lengths. ``chunks`` is the single way to turn it into sound, for export and play alike.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Iterator, Mapping

import numpy as np

from ..audio import Audio
from .chimes import load_chimes
from .render import CHUNK_SAMPLES, render_chunks
from ..routine import Routine, load_routine
from ..routine.vocabulary import MAX_TIMED_S
from ..speech import Synthesizer
from ..speech.cache import SpeechCache
from ..speech.engines import DEFAULT_ENGINE, make_synthesizer, resolve_engine
from ..errors import InputError, RoutineError
from ..plan.phrases import Phrases, load_phrases
from ..plan.model import Timeline
from ..plan.progression import Level
from ..plan.timeline import build_timeline, script


@dataclass(frozen=True)
class Today:
    """A routine ready to prepare: its language applied, at today's levels (``levels``: the
    ``Level`` of each leveled exercise by name, its reps and the reason for them), with its
    phrase pack and its voice: the ``engine``'s ``voice`` at ``rate`` WPM, or ``given``."""

    routine: Routine
    phrases: Phrases
    levels: Mapping[str, Level] = field(default_factory=dict)
    engine: str = DEFAULT_ENGINE
    voice: str | None = None
    rate: int | None = None
    given: Synthesizer | None = None  # a synthesizer of the caller's (tests pass fakes)

    @functools.cached_property
    def synthesizer(self) -> Synthesizer:
        """Made on first use, so that an export refuses a destination it cannot write before
        any engine is loaded (a bad routine or destination is reported before a bad voice)."""
        if self.given is not None:
            return self.given
        return make_voice(self.engine, self.voice, self.rate, self.phrases)


def as_it_is(routine: str | Routine, *, language: str | None = None, engine: str = DEFAULT_ENGINE,
             voice: str | None = None, rate: int | None = None, synthesizer=None) -> Today:
    """``routine`` (a file, a built-in name or a ``Routine``) at the reps it says, in
    ``language`` (None: its own): no history is read."""
    loaded = with_language(routine if isinstance(routine, Routine) else load_routine(routine), language)
    return Today(loaded, load_phrases(loaded.language), {}, engine, voice, rate, synthesizer)


@dataclass(frozen=True)
class Session:
    """``speech`` is the single source of every cue's audio within the session: the cache
    answers the same samples for the same text each time (espeak-ng alone would not)."""

    routine: Routine
    timeline: Timeline
    speech: SpeechCache
    chimes: dict[str, Audio]
    phrases: Phrases

    @property
    def sample_rate(self) -> int:
        return self.timeline.sample_rate

    def chunks(self, start: int = 0, end: int | None = None,
               chunk_samples: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
        return render_chunks(self.timeline, self.speech.audio, self.chimes, start, end, chunk_samples)


def prepare(routine: Today | str | Routine, *, engine: str = DEFAULT_ENGINE, voice: str | None = None,
            rate: int | None = None, language: str | None = None, synthesizer=None,
            progress=None) -> Session:
    """Synthesize and plan ``routine``: today's (``request.resolve``), or one as it is
    (``as_it_is``, given the other options: the live start and tests use that).
    ``progress(done, total)`` is called as the cues are synthesized."""
    today = routine if isinstance(routine, Today) else as_it_is(
        routine, language=language, engine=engine, voice=voice, rate=rate, synthesizer=synthesizer)
    loaded, phrases, synth = today.routine, today.phrases, today.synthesizer
    cache = SpeechCache(synth)
    cache.prefetch(script(loaded, phrases), progress=progress)
    chimes = load_chimes(loaded, synth.sample_rate)
    timeline = build_timeline(loaded, cache.samples, lambda name: len(chimes[name]), synth.sample_rate, phrases)
    check_length(timeline, loaded)
    return Session(loaded, timeline, cache, chimes, phrases)


def check_length(timeline: Timeline, routine: Routine) -> None:
    """The routine's check estimated its speech before it was made; this is the real length."""
    if timeline.total_s > MAX_TIMED_S:
        raise RoutineError(f"makes a session {timeline.total_s / 3600:.1f} hours long with its speech; "
                           f"at most {MAX_TIMED_S / 3600:g} hours: use fewer reps, sets or shorter texts",
                           path=routine.source)


def with_language(routine: Routine, language: str | None) -> Routine:
    """``routine`` spoken in ``language`` (None: its own), checked to have a phrase pack."""
    if language is not None:
        routine = dataclasses.replace(routine, language=language)
    try:
        load_phrases(routine.language)
    except InputError as error:
        raise RoutineError(str(error).removeprefix("language: "), path=routine.source, field="language") from None
    return routine


def make_voice(engine: str, voice: str | None, rate: int | None, phrases: Phrases):
    """The synthesizer; with no ``voice`` given, the engine's voice for the language."""
    engine = resolve_engine(engine, voice, phrases.language)
    return make_synthesizer(engine, voice=voice or phrases.voices.get(engine), rate=rate)
