"""One prepared session: routine + voice + chimes + the timeline planned from them.

``prepare`` is what every command calls: it loads the routine, synthesizes (or takes from
the cache) every cue at the chosen voice and rate, and plans the timeline with their real
lengths. ``chunks`` is the single way to turn it into sound, for export and play alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..audio import Audio
from .chimes import load_chimes
from .render import CHUNK_SAMPLES, render_chunks
from ..routine.load import Routine, load_routine
from ..speech.cache import SpeechCache
from ..speech.engines import make_synthesizer
from ..plan.timeline import Timeline, build_timeline, script


@dataclass(frozen=True)
class Session:
    routine: Routine
    timeline: Timeline
    voice: SpeechCache
    chimes: dict[str, Audio]

    @property
    def sample_rate(self) -> int:
        return self.timeline.sample_rate

    def chunks(self, start: int = 0, end: int | None = None,
               chunk_samples: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
        return render_chunks(self.timeline, self.voice.audio, self.chimes, start, end, chunk_samples)


def prepare(routine: str | Routine, *, engine: str = "espeak", voice: str | None = None,
            rate: int | None = None, synthesizer=None, progress=None) -> Session:
    """Load, synthesize and plan. ``synthesizer`` overrides the engine (tests use fakes)."""
    loaded = routine if isinstance(routine, Routine) else load_routine(routine)
    synth = synthesizer or make_synthesizer(engine, voice=voice, rate=rate)
    cache = SpeechCache(synth)
    cache.prefetch(script(loaded), progress=progress)
    chimes = load_chimes(loaded, synth.sample_rate)
    timeline = build_timeline(loaded, cache.samples, lambda name: len(chimes[name]), synth.sample_rate)
    return Session(loaded, timeline, cache, chimes)
