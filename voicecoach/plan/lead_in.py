"""A quiet lead-in in front of a planned session: every event and chapter moves later by
the same number of samples, so the one renderer, the ID3 chapters, the subtitles and the
podcast chapters all agree on the shifted times. Pure: a ``Timeline`` in, a ``Timeline`` out.

Podcast episodes need it: a Bluetooth speaker or headset that was asleep wakes on the
first sound it is sent and loses the start of it, so the first word must come later.
"""

from __future__ import annotations

import dataclasses

from .timeline import Timeline


def with_lead_in(timeline: Timeline, seconds: float) -> Timeline:
    """``timeline`` with ``seconds`` of quiet before its first sound. The first chapter
    still starts at 0 (the quiet belongs to the introduction, so the chapters cover the
    whole file); every other start moves by the lead-in."""
    shift = round(seconds * timeline.sample_rate)
    if shift < 0:
        raise ValueError(f"a lead-in cannot be negative, got {seconds} s")
    if shift == 0:
        return timeline
    events = tuple(dataclasses.replace(e, start=e.start + shift) for e in timeline.events)
    chapters = tuple(dataclasses.replace(c, start=c.start + shift if i else c.start)
                     for i, c in enumerate(timeline.chapters))
    return dataclasses.replace(timeline, events=events, chapters=chapters, total=timeline.total + shift)
