"""Timeline -> one PCM stream, sample-accurate, in bounded chunks.

This is the only renderer: ``export`` writes its chunks to a file and ``play`` sends the
same chunks to the sound device, so the two cannot disagree. Each sound starts on exactly
its event's ``start`` sample; memory is one chunk plus the sounds it touches.
"""

from __future__ import annotations

from bisect import bisect_right
from typing import Callable, Iterator, Mapping

import numpy as np

from ..audio import Audio
from ..plan.model import CHIME, SPEECH, Event, Timeline

CHUNK_SAMPLES = 1 << 16  # about 3 s at 22.05 kHz: 128 KiB of int16 per chunk


def render_chunks(timeline: Timeline, speech: Callable[[str], Audio], chimes: Mapping[str, Audio],
                  start: int = 0, end: int | None = None,
                  chunk_samples: int = CHUNK_SAMPLES) -> Iterator[np.ndarray]:
    """Yield int16 chunks covering samples ``[start, end)`` of the timeline.

    ``speech(text)`` returns the trimmed audio whose length the timeline was planned with;
    a mismatch is a bug upstream, so it raises rather than drifting.
    """
    end = timeline.total if end is None else min(end, timeline.total)
    sounding = sound_events(timeline)
    starts = [e.start for e in sounding]
    # Sounds are short and sorted by start: an event can reach back at most this far,
    # which bounds the search for the sounds overlapping a chunk.
    reach = max((e.length for e in sounding), default=0)
    position = start
    while position < end:
        stop = min(end, position + chunk_samples)
        chunk = np.zeros(stop - position, dtype=np.int32)
        first = bisect_right(starts, position - reach - 1)
        last = bisect_right(starts, stop - 1)
        for event in sounding[first:last]:
            if event.end > position:
                _mix(chunk, position, event, _sound(event, speech, chimes))
        yield np.clip(chunk, -32768, 32767).astype(np.int16)
        position = stop


def sound_events(timeline: Timeline) -> list[Event]:
    """The events that make sound (speech and chimes at least a sample long), by start:
    the rest of a timeline is silence. Shared by the renderer and live playback's plan."""
    return sorted((e for e in timeline.events if e.kind in (SPEECH, CHIME) and e.length),
                  key=lambda e: e.start)


def _sound(event: Event, speech: Callable[[str], Audio], chimes: Mapping[str, Audio]) -> Audio:
    audio = speech(event.text) if event.kind == SPEECH else chimes[event.sound]
    if len(audio) != event.length:
        raise AssertionError(f"{event.kind} {event.text or event.sound!r} is {len(audio)} samples, "
                             f"planned {event.length}")
    return audio


def _mix(chunk: np.ndarray, chunk_start: int, event: Event, audio: Audio) -> None:
    begin = max(event.start, chunk_start)
    finish = min(event.end, chunk_start + len(chunk))
    chunk[begin - chunk_start: finish - chunk_start] += audio.samples[begin - event.start: finish - event.start]
