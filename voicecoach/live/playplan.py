"""What live playback needs to know about a timeline, by position. Pure: no audio, no I/O.

- ``segments``: where the rendered stream is cut for playing. Each segment starts on a
  sound that follows a silence (or where playback starts) and runs until the next one
  starts, its silent tail included. The player starts every segment at its own planned
  instant, so the small error of starting a sound stream never adds up over a session,
  and since every cut lies in digital silence, what is heard is exactly the renderer's
  output, sample for sample.
- ``Guide``: for a sample position, the chapter, the step being done (speech, hold,
  rest), the time left in it, the last instruction (for "repeat"), and the place to
  resume from.

All positions are in samples of the timeline.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from ..plan.model import HOLD, REST, SPEECH, Event, Timeline
from ..session.render import sound_events

# A sound after at least this much silence starts a new segment; the timeline's gaps
# between cues (0.35 s) are all longer, so every cue onset is the start of a segment.
MIN_GAP_S = 0.2
# A long silence (a rest, a long hold) is cut into pieces of at most this length, so a
# stream is always playing (wireless headphones stay awake) and memory stays small.
MAX_SEGMENT_S = 20.0


def segments(timeline: Timeline, start: int = 0, end: int | None = None, *,
             min_gap_s: float = MIN_GAP_S, max_segment_s: float = MAX_SEGMENT_S) -> list[tuple[int, int]]:
    """``(begin, end)`` sample ranges covering ``[start, end)`` (default: to the end of
    the timeline) back to back."""
    rate = timeline.sample_rate
    stop = timeline.total if end is None else min(end, timeline.total)
    min_gap, max_len = round(min_gap_s * rate), round(max_segment_s * rate)
    cuts, sound_end = [start], start
    for sound_begin, sound_stop in ((e.start, e.end) for e in sound_events(timeline)):
        if sound_stop <= start:
            continue
        if sound_begin >= stop:
            break
        if sound_begin > start and sound_begin - sound_end >= min_gap:
            cuts.extend(_silence_cuts(cuts[-1], sound_end, sound_begin, max_len))
            cuts.append(sound_begin)
        sound_end = max(sound_end, sound_stop)
    cuts.extend(_silence_cuts(cuts[-1], sound_end, stop, max_len))
    cuts.append(stop)
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


def _silence_cuts(begin: int, silent_from: int, end: int, max_len: int) -> list[int]:
    """Cuts in the silence ``[silent_from, end)`` so that no piece of ``[begin, end)`` is
    much longer than ``max_len`` (a sound itself is never cut; no piece is under 1/4 of it)."""
    cuts, position = [], max(begin + max_len, silent_from)
    while end - begin > max_len and end - position >= max_len // 4:
        cuts.append(position)
        begin, position = position, position + max_len
    return cuts


@dataclass(frozen=True)
class Status:
    """What the screen shows. Times in seconds."""

    chapter: str
    exercise_number: int | None  # 1-based among the exercises; None in the intro and finish
    exercise_count: int | None  # None while only the intro is known (see ``warmup``)
    step: str                    # "say", "hold", "rest" or "" (a pause between cues)
    text: str                    # being said, or the instruction the hold belongs to
    seconds_left: float | None   # in the current hold or rest
    elapsed_s: float
    total_s: float | None       # likewise


class Guide:
    """Position lookups on one timeline (events indexed once, each lookup a bisect)."""

    def __init__(self, timeline: Timeline):
        self.timeline = timeline
        events = sorted(timeline.events, key=lambda e: e.start)
        self.timed = [e for e in events if e.kind in (HOLD, REST)]
        self._timed_starts = [e.start for e in self.timed]
        self.speech = [e for e in events if e.kind == SPEECH]
        self._speech_starts = [e.start for e in self.speech]
        self.sounds = sound_events(timeline)
        self._sound_starts = [e.start for e in self.sounds]
        # Instructions are the cues outside holds and rests (not "Three", "Halfway").
        self.instructions = [e for e in self.speech
                             if _containing(self.timed, self._timed_starts, e.start) is None]
        self._instruction_starts = [e.start for e in self.instructions]
        self.events = events
        self._starts = [e.start for e in events]
        self.chapter_starts = [c.start for c in timeline.chapters]

    def chapter_at(self, position: int) -> int:
        return max(0, bisect_right(self.chapter_starts, position) - 1)

    def chapter_start(self, index: int) -> int:
        index = min(max(index, 0), len(self.chapter_starts) - 1)
        return self.chapter_starts[index]

    def last_instruction_start(self, position: int) -> int:
        """Where the instruction heard last (at or before ``position``) starts; 0 if none."""
        index = bisect_right(self._instruction_starts, position) - 1
        return self.instructions[index].start if index >= 0 else 0

    def resume_point(self, position: int) -> int:
        """Where to continue after a pause at ``position``: a cue cut off is said again
        from its start; in a silence (a hold, a rest), playback continues where it was."""
        sound = _containing(self.sounds, self._sound_starts, position)
        return sound.start if sound is not None else position

    def place_chapter(self, position: int) -> int:
        """The chapter to resume at later: the current one, or the next when only the
        rest after an exercise was left (that exercise is done)."""
        chapter = self.chapter_at(position)
        last = len(self.chapter_starts) - 1
        index = bisect_right(self._starts, position) - 1
        if 0 < chapter < last and index >= 0 and self.events[index].exercise is None:
            return chapter + 1
        return chapter

    def status(self, position: int) -> Status:
        rate = self.timeline.sample_rate
        chapter = self.chapter_at(position)
        count = len(self.chapter_starts) - 2
        number = chapter if 0 < chapter <= count else None
        step, text, left = self._step(position)
        return Status(self.timeline.chapters[chapter].title, number, count, step, text,
                      None if left is None else left / rate, position / rate, self.timeline.total_s)

    def _step(self, position: int) -> tuple[str, str, int | None]:
        timed = _containing(self.timed, self._timed_starts, position)
        if timed is not None:
            instruction = _last_before(self.instructions, self._instruction_starts, timed.start)
            return timed.kind, instruction.text if instruction else "", timed.end - position
        spoken = _containing(self.speech, self._speech_starts, position)
        if spoken is not None:
            return "say", spoken.text, None
        return "", "", None


def _containing(events: list[Event], starts: list[int], position: int) -> Event | None:
    index = bisect_right(starts, position) - 1
    if index >= 0 and events[index].start <= position < events[index].end:
        return events[index]
    return None


def _last_before(events: list[Event], starts: list[int], position: int) -> Event | None:
    index = bisect_right(starts, position) - 1
    return events[index] if index >= 0 else None
