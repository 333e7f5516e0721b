"""Text-to-speech: one protocol, one adapter module per engine, and the cache in front.

``Synthesizer.synthesize(text) -> Audio`` is all an engine must do; ``identity`` names
everything that changes its output (engine, voice, rate, engine version) for the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # for the annotation only: espeak-ng's child process starts without numpy
    from ..audio import Audio


class Synthesizer(Protocol):
    #: everything that changes the output: the cache key is made from it and the text
    identity: str
    sample_rate: int

    def synthesize(self, text: str) -> Audio:
        """Speak ``text`` into audio (untrimmed). Raises ``EngineError`` on failure."""
        ...


@runtime_checkable
class Concurrent(Protocol):
    """A synthesizer that can speak ``workers`` texts at once, each from its own thread
    (each text's samples the same as when spoken alone): ``SpeechCache.prefetch`` uses it."""

    workers: int


def workers_of(synthesizer) -> int:
    """How many texts ``synthesizer`` may speak at once: 1 unless it says it is ``Concurrent``."""
    return max(1, int(synthesizer.workers)) if isinstance(synthesizer, Concurrent) else 1


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine offers: its ``id`` (for --voice), a readable ``name``, and the
    ``languages`` it speaks."""

    id: str
    name: str
    languages: tuple[str, ...]
