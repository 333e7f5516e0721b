"""Routine + measured speech lengths -> an exact ``Timeline``. Pure: no audio, no I/O.

Times are whole samples at the session's sample rate, so nothing drifts by rounding:
every hold and rest starts on the sample where the cue before it stops being spoken and
lasts exactly its written length, whatever the voice speed. The scheduler asks two
callables for lengths (``speech_samples(text)``, ``chime_samples(name)``); the speech
cache answers them with the real, trimmed length of each cue at the chosen voice and rate.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Callable, Iterator

from ..routine import Exercise, Routine, Step
from ..text import clock
from .phrases import Phrases, load_phrases

SPEECH, CHIME, HOLD, REST = "speech", "chime", "hold", "rest"
KINDS = (SPEECH, CHIME, HOLD, REST)
# Silences between consecutive sounds, in seconds: calm, but never dead air.
GAP_S = 0.35
REP_GAP_S = 1.0
HALFWAY_MIN_HOLD_S = 20.0
INTRO_CHAPTER, FINISH_CHAPTER = "Introduction", "Finish"


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


SpeechSamples = Callable[[str], int]
ChimeSamples = Callable[[str], int]


def build_timeline(routine: Routine, speech_samples: SpeechSamples,
                   chime_samples: ChimeSamples, sample_rate: int,
                   phrases: Phrases | None = None) -> Timeline:
    """Schedule ``routine``; lengths come from the two callables, in samples. What the
    coach says in its own words comes from ``phrases`` (default: the routine's language)."""
    plan = _Planner(speech_samples, chime_samples, sample_rate, phrases or load_phrases(routine.language))
    _schedule(plan, routine)
    return Timeline(routine.title, sample_rate, tuple(plan.events), tuple(plan.chapters), plan.cursor)


def script(routine: Routine, phrases: Phrases | None = None) -> list[str]:
    """Every distinct text the timeline may speak, in order (for synthesis ahead of time)."""
    texts: list[str] = []
    collector = _Planner(lambda text: texts.append(text) or 0, lambda sound: 0, 1,
                         phrases or load_phrases(routine.language))
    collector.keep_every_mark = True
    _schedule(collector, routine)
    return list(dict.fromkeys(texts))


def _schedule(plan: "_Planner", routine: Routine) -> None:
    plan.chapter(INTRO_CHAPTER)
    plan.say(intro_text(routine, plan.phrases), None)
    last = len(routine.exercises) - 1
    for index, exercise in enumerate(routine.exercises):
        plan.chapter(exercise.name)
        _exercise(plan, exercise)
        if index < last:
            _between_exercises(plan, routine, routine.exercises[index + 1])
    plan.chapter(FINISH_CHAPTER)
    plan.say(routine.outro or plan.phrases.say("outro"), None)
    plan.chime("end", None)


class _Planner:
    """A cursor on the timeline that appends events back to back."""

    def __init__(self, speech_samples: SpeechSamples, chime_samples: ChimeSamples, rate: int,
                 phrases: Phrases):
        self.speech_samples, self.chime_samples, self.rate = speech_samples, chime_samples, rate
        self.phrases = phrases
        self.events: list[Event] = []
        self.chapters: list[Chapter] = []
        self.cursor = 0
        self.pending_chapter: str | None = None
        self.keep_every_mark = False  # script() wants every text that may be spoken

    def samples(self, seconds: float) -> int:
        return round(seconds * self.rate)

    def chapter(self, title: str) -> None:
        """The next event starts chapter ``title`` (so a chapter starts on a sound, not a gap)."""
        self.pending_chapter = title

    def add(self, kind: str, length: int, exercise: str | None, **extra) -> Event:
        if self.pending_chapter is not None:
            self.chapters.append(Chapter(self.pending_chapter, self.cursor))
            self.pending_chapter = None
        event = Event(self.cursor, length, kind, len(self.chapters) - 1, exercise, **extra)
        self.events.append(event)
        self.cursor += length
        return event

    def gap(self, seconds: float = GAP_S) -> None:
        if self.events:
            self.cursor += self.samples(seconds)

    def say(self, text: str, exercise: str | None) -> None:
        self.gap()
        self.add(SPEECH, self.speech_samples(text), exercise, text=text)

    def chime(self, sound: str, exercise: str | None) -> None:
        self.gap()
        self.add(CHIME, self.chime_samples(sound), exercise, sound=sound)

    def timed(self, kind: str, seconds: float, exercise: str | None, count: bool) -> None:
        """A hold or rest of exactly ``seconds``, starting now, with spoken marks inside.

        A mark ("Halfway.", "Three", "Two", "One") keeps the normal gap to every other sound,
        or is left out: it starts at least ``GAP_S`` after the sound before it (the cue that
        the interval starts on, or the mark before), and stops ``GAP_S`` before the next mark
        is due and before a hold's closing chime (a rest is followed by a gap of its own).
        """
        start, length = self.cursor, self.samples(seconds)
        interval = self.add(kind, length, exercise)
        gap = self.samples(GAP_S)
        marks = [(text, start + self.samples(at)) for text, at in _marks(seconds, count, self.phrases)]
        limits = [at - gap for _, at in marks[1:]] + [start + length - (gap if kind == HOLD else 0)]
        quiet_from = start + gap  # the cue before the interval stops where it starts
        for (text, at), limit in zip(marks, limits):
            spoken = self.speech_samples(text)
            if self.keep_every_mark or (at >= quiet_from and at + spoken <= limit):
                self.events.append(Event(at, spoken, SPEECH, interval.chapter, exercise, text=text))
                quiet_from = at + spoken + gap


def _marks(seconds: float, count: bool, phrases: Phrases) -> Iterator[tuple[str, float]]:
    """(word, offset in seconds) spoken inside a hold: "Halfway", then the last seconds."""
    if not count:
        return
    if seconds >= HALFWAY_MIN_HOLD_S:
        yield phrases.say("halfway"), seconds / 2
    for remaining in (3, 2, 1):
        if remaining <= seconds:
            yield phrases.count_word(remaining), seconds - remaining


def intro_text(routine: Routine, phrases: Phrases) -> str:
    """What the intro says: the routine's own, or the pack's welcome."""
    return routine.intro or phrases.say("intro")


def _announce(exercise: Exercise, phrases: Phrases) -> str:
    sizes = exercise.set_sizes()
    each = sizes[0] if len(set(sizes)) == 1 else exercise.reps
    amount = phrases.amount(each, "reps_one", "reps_other")
    if exercise.sides:
        amount = phrases.say("on_each_side", amount=amount)
    if _alternates(exercise):
        amount = phrases.say("alternating", amount=amount)
    if len(set(sizes)) > 1:  # a level split unevenly (per_set): 7 is "in 2 sets (4, 3)"
        amount = phrases.say("sets_split", sets=len(sizes), amount=amount,
                             sizes=", ".join(map(str, sizes)))
    elif len(sizes) > 1:
        amount = phrases.say("sets_of", sets=len(sizes), amount=amount)
    return phrases.say("announce", name=exercise.name, amount=amount)


def _exercise(plan: _Planner, exercise: Exercise) -> None:
    name = exercise.name
    words = plan.phrases
    plan.say(_announce(exercise, words), name)
    if exercise.instructions:
        plan.say(exercise.instructions, name)
    plan.chime("start", name)
    sizes = exercise.set_sizes()
    for set_number, reps in enumerate(sizes, 1):
        if len(sizes) > 1:
            plan.say(words.say("set_of", number=set_number, sets=len(sizes)), name)
        _set(plan, exercise, reps)
        if set_number < len(sizes) and exercise.rest_between_sets_s:
            seconds = exercise.rest_between_sets_s
            _rest(plan, seconds, name, words.say("rest", duration=words.duration(seconds)))
            plan.chime("next", name)


def _set(plan: _Planner, exercise: Exercise, reps: int) -> None:
    """One set: all its reps on each side in turn, or alternating (right, left, right...)."""
    words, name = plan.phrases, exercise.name
    if _alternates(exercise):
        plan.say(words.say("first_side", side=exercise.sides[0]), name)
        for rep in range(1, reps + 1):
            for turn, side in enumerate(exercise.sides):
                _rep(plan, exercise, rep, reps, side, turn)
        return
    for side_index, side in enumerate(exercise.sides or (None,)):
        if side is not None:
            plan.say(words.say("next_side" if side_index else "first_side", side=side), name)
        for rep in range(1, reps + 1):
            _rep(plan, exercise, rep, reps, side)


def _rep(plan: _Planner, exercise: Exercise, rep: int, reps: int, side: str | None,
         turn: int = 0) -> None:
    """Rep ``rep`` of the ``reps`` in this set; alternating, its ``turn``-th side."""
    if rep > 1 or turn:
        plan.gap(REP_GAP_S)
    for step_index, step in enumerate(exercise.steps):
        if step.say is None:
            text = plan.phrases.say("hold")
        else:
            text = step.say.format(side=side)  # also undoes doubled braces where there are no sides
        if step_index == 0 and _alternates(exercise):
            text = _alternating_lead(exercise, rep, reps, side, turn, text, plan.phrases)
        elif step_index == 0:
            text = _progress(rep, reps, text, plan.phrases)
        _step(plan, step, text, exercise.name, side)


def _alternates(exercise: Exercise) -> bool:
    return exercise.alternate and len(exercise.sides) > 1


def _alternating_lead(exercise: Exercise, rep: int, reps: int, side: str, turn: int, text: str,
                      phrases: Phrases) -> str:
    """The first cue of one side of an alternating rep. The side is said with every rep:
    by the cue itself where it uses {side}, else led by "Now the left side." (the first
    rep of a set follows "Starting on the right side."). "Two more on each side." and
    "Last one on each side." go with the rep's first side: they count rounds of both."""
    first = exercise.steps[0].say
    says_side = first is not None and any(field == "side" for _, field, _, _ in string.Formatter().parse(first))
    if not says_side and (rep > 1 or turn):
        text = phrases.say("side_cue", side=side, text=text)
    if turn == 0 and reps > 1 and rep == reps:
        return phrases.say("last_each_side", text=text)
    if turn == 0 and reps >= 4 and rep == reps - 1:
        return phrases.say("two_more_each_side", text=text)
    return text


def _progress(rep: int, reps: int, text: str, phrases: Phrases) -> str:
    """The first cue of a rep, led by "Last one." or "Two more." where they apply."""
    if reps > 1 and rep == reps:
        return phrases.say("last_one", text=text)
    if reps >= 4 and rep == reps - 1:
        return phrases.say("two_more", text=text)
    return text


def _step(plan: _Planner, step: Step, text: str, name: str, side: str | None) -> None:
    plan.say(text, name)
    if step.hold_s:
        plan.timed(HOLD, step.hold_s, name, step.count)
        plan.add(CHIME, plan.chime_samples("hold_end"), name, sound="hold_end")
    if step.release:
        plan.say(step.release.format(side=side), name)


def _rest(plan: _Planner, seconds: float, exercise: str | None, announcement: str) -> None:
    # The announcement is finished text: exercise names may hold literal braces.
    plan.say(announcement, exercise)
    plan.timed(REST, seconds, exercise, count=True)


def _between_exercises(plan: _Planner, routine: Routine, following: Exercise) -> None:
    if routine.rest_s:
        rest = plan.phrases.duration(routine.rest_s)
        _rest(plan, routine.rest_s, None, plan.phrases.say("rest_before", duration=rest, name=following.name))
        plan.chime("next", None)



def format_table(timeline: Timeline) -> str:
    """The readable timeline of ``plan``: start, length, kind, exercise, what is heard."""
    rows = [f"{timeline.title}", f"{'start':>10}  {'length':>7}  {'kind':<6}  {'exercise':<18}  what"]
    for event in timeline.events:
        what = event.text if event.kind == SPEECH else event.sound or ""
        rows.append(f"{clock(timeline.seconds(event.start)):>10}  {timeline.seconds(event.length):>6.2f}s"
                    f"  {event.kind:<6}  {(event.exercise or '-')[:18]:<18}  {what}".rstrip())  # a hold says nothing
    exercises = len(timeline.chapters) - 2  # all chapters but the introduction and the finish
    rows.append(f"Total: {clock(timeline.total_s)} ({timeline.total_s:.3f} s), "
                f"{exercises} exercise{'s' if exercises != 1 else ''}")
    return "\n".join(rows)
