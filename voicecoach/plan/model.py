"""A planned session as a value: a ``Timeline`` of events and chapters, made by the
scheduler (``timeline``) and read by the renderer, the players and the file writers.

Times are whole samples at the timeline's ``sample_rate``; ``to_dict`` is the JSON shape.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEECH, CHIME, HOLD, REST = "speech", "chime", "hold", "rest"
KINDS = (SPEECH, CHIME, HOLD, REST)


@dataclass(frozen=True)
class Event:
    """One thing on the timeline. ``start``/``length`` are in samples.

    ``speech`` carries ``text``, ``chime`` carries ``sound``; ``hold`` and ``rest`` are the
    timed intervals themselves. ``exercise`` is the exercise name (None for intro, rests
    between exercises and outro); ``chapter`` indexes ``Timeline.chapters``.
    """

    start: int
    length: int
    kind: str
    chapter: int
    exercise: str | None = None
    text: str | None = None
    sound: str | None = None

    @property
    def end(self) -> int:
        return self.start + self.length


@dataclass(frozen=True)
class Chapter:
    """A navigable section (intro, each exercise, finish); ``start`` in samples."""

    title: str
    start: int


@dataclass(frozen=True)
class Timeline:
    """A planned session: ``events`` in the order planned, ``total`` in samples at ``sample_rate``.

    Count words spoken inside a hold or rest follow that hold or rest in ``events``.
    """

    title: str
    sample_rate: int
    events: tuple[Event, ...]
    chapters: tuple[Chapter, ...]
    total: int

    @property
    def total_s(self) -> float:
        return self.total / self.sample_rate

    def seconds(self, samples: int) -> float:
        """Samples -> seconds, rounded so that ``round(s * rate)`` gives back ``samples``."""
        return round(samples / self.sample_rate, 6)

    def chapter_end(self, index: int) -> int:
        if index + 1 < len(self.chapters):
            return self.chapters[index + 1].start
        return self.total

    def spoken_texts(self) -> list[str]:
        return [e.text for e in self.events if e.kind == SPEECH]

    def to_dict(self) -> dict:
        """The JSON shape of ``plan --json`` and ``export --timeline``."""
        events = []
        for e in self.events:
            item = {"start_s": self.seconds(e.start), "duration_s": self.seconds(e.length),
                    "kind": e.kind}
            if e.kind == SPEECH:
                item["text"] = e.text
            if e.kind == CHIME:
                item["sound"] = e.sound
            item["exercise"] = e.exercise
            events.append(item)
        chapters = [{"title": c.title, "start_s": self.seconds(c.start),
                     "end_s": self.seconds(self.chapter_end(i))}
                    for i, c in enumerate(self.chapters)]
        return {"title": self.title, "total_s": self.seconds(self.total),
                "sample_rate": self.sample_rate, "chapters": chapters, "events": events}
