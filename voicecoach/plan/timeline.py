"""Routine + measured speech lengths -> an exact ``Timeline``. Pure: no audio, no I/O.

Times are whole samples at the session's sample rate, so nothing drifts by rounding:
every hold and rest starts on the sample where the cue before it stops being spoken and
lasts exactly its written length, whatever the voice speed. The scheduler asks two
callables for lengths (``speech_samples(text)``, ``chime_samples(name)``); the speech
cache answers them with the real, trimmed length of each cue at the chosen voice and rate.
What is said comes from ``wording``; the result is the value of ``model``.
"""

from __future__ import annotations

from typing import Callable

from ..routine import Exercise, Routine, Step
from .model import CHIME, HOLD, REST, SPEECH, Chapter, Event, Timeline
from .phrases import Phrases, load_phrases
from .wording import alternates, announce, cue, intro_sentences, marks

# Silences between consecutive sounds, in seconds: calm, but never dead air.
GAP_S = 0.35
REP_GAP_S = 1.0


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
    plan.chapter(plan.phrases.say("chapter_intro"))
    for sentence in intro_sentences(routine, plan.phrases):
        plan.say(sentence, None)
    last = len(routine.exercises) - 1
    for index, exercise in enumerate(routine.exercises):
        plan.chapter(exercise.name)
        _exercise(plan, exercise)
        if index < last:
            _between_exercises(plan, routine, routine.exercises[index + 1])
    plan.chapter(plan.phrases.say("chapter_finish"))
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
        due = [(text, start + self.samples(at)) for text, at in marks(seconds, count, self.phrases)]
        limits = [at - gap for _, at in due[1:]] + [start + length - (gap if kind == HOLD else 0)]
        quiet_from = start + gap  # the cue before the interval stops where it starts
        for (text, at), limit in zip(due, limits):
            spoken = self.speech_samples(text)
            if self.keep_every_mark or (at >= quiet_from and at + spoken <= limit):
                self.events.append(Event(at, spoken, SPEECH, interval.chapter, exercise, text=text))
                quiet_from = at + spoken + gap


def _exercise(plan: _Planner, exercise: Exercise) -> None:
    name = exercise.name
    words = plan.phrases
    plan.say(announce(exercise, words), name)
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
    if alternates(exercise):
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
        text = cue(exercise, step_index, rep, reps, side, turn, plan.phrases)
        _step(plan, step, text, exercise.name, side)


def _step(plan: _Planner, step: Step, text: str, name: str, side: str | None) -> None:
    plan.say(text, name)
    if step.hold_s:
        plan.timed(HOLD, step.hold_s, name, step.count)
        plan.add(CHIME, plan.chime_samples("hold_end"), name, sound="hold_end")
    if step.release:
        plan.say(step.release.format(side=plan.phrases.side(side)), name)


def _rest(plan: _Planner, seconds: float, exercise: str | None, announcement: str) -> None:
    # The announcement is finished text: exercise names may hold literal braces.
    plan.say(announcement, exercise)
    plan.timed(REST, seconds, exercise, count=True)


def _between_exercises(plan: _Planner, routine: Routine, following: Exercise) -> None:
    if routine.rest_s:
        rest = plan.phrases.duration(routine.rest_s)
        _rest(plan, routine.rest_s, None, plan.phrases.say("rest_before", duration=rest, name=following.name))
        plan.chime("next", None)
