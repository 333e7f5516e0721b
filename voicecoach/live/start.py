"""Starting a live session quickly: the intro is spoken while the rest is prepared.

Planning needs every cue's real length, so the whole routine must be synthesized before
the timeline exists; with nothing cached that takes about a second for the built-in
routine (espeak-ng), more for long routines. But the first chapter is the intro alone:
its samples depend on the intro text only. So the intro is synthesized first and its
chapter is planned by the same scheduler, on the routine without its exercises (other
lengths do not matter there); it plays while a thread prepares the full session. The
full timeline is checked to begin with exactly the same events before it takes over.
"""

from __future__ import annotations

import dataclasses
from threading import Lock, Thread

from ..plan.phrases import load_phrases
from ..plan.timeline import build_timeline
from ..plan.wording import intro_text
from ..session.chimes import load_chimes
from ..session.prepare import Session, prepare
from ..speech.cache import SpeechCache
from .commands import Outcome


class _Cancelled(Exception):
    pass


class SerialSynthesizer:
    """One synthesis at a time: the intro's count-in (after a pause) may be asked for
    while the thread prepares the rest, and not every engine is safe to share."""

    def __init__(self, synthesizer):
        self.synthesizer = synthesizer
        self.identity, self.sample_rate = synthesizer.identity, synthesizer.sample_rate
        self._lock = Lock()

    def synthesize(self, text: str):
        with self._lock:
            return self.synthesizer.synthesize(text)


def head_session(routine, synthesizer) -> tuple[Session, int]:
    """The intro chapter as a session of its own, and where it ends (in samples)."""
    cache = SpeechCache(synthesizer)
    phrases = load_phrases(routine.language)
    intro = intro_text(routine, phrases)
    bare = dataclasses.replace(routine, exercises=())
    timeline = build_timeline(bare, lambda text: cache.samples(text) if text == intro else 0,
                              lambda sound: 0, synthesizer.sample_rate, phrases)
    return Session(routine, timeline, cache, {}, phrases), timeline.chapters[1].start


class Preparing:
    """``head`` (and ``head_end``) now; ``session()`` once the thread has prepared it."""

    def __init__(self, routine, synthesizer, background: bool = True):
        synthesizer = SerialSynthesizer(synthesizer)
        load_chimes(routine, synthesizer.sample_rate)  # a bad sound file is bad input: say so now
        self.head, self.head_end = head_session(routine, synthesizer)
        self._session: Session | None = None
        self._error: BaseException | None = None
        self._cancel = False
        self._thread = Thread(target=self._prepare, args=(routine, synthesizer),
                              name="voicecoach-prepare", daemon=True)
        if background:
            self._thread.start()
        else:  # everything before the intro plays (tests on a fake clock)
            self._prepare(routine, synthesizer)

    def _prepare(self, routine, synthesizer) -> None:
        try:
            self._session = prepare(routine, synthesizer=synthesizer, progress=self._progress)
        except _Cancelled:
            pass
        except BaseException as error:  # handed to the main thread, which reports it
            self._error = error

    def _progress(self, done: int, total: int) -> None:
        if self._cancel:
            raise _Cancelled

    def ready(self) -> bool:
        return not self._thread.is_alive()

    def session(self) -> Session:
        """The full session (waits for it); raises what preparing it raised."""
        if self._thread.is_alive():
            self._thread.join()
        if self._error is not None:
            raise self._error
        _check_same_start(self.head, self._session, self.head_end)
        return self._session

    def cancel(self, timeout_s: float = 2.0) -> None:
        """Stop after the cue being synthesized (no cache entry is left half written)."""
        self._cancel = True
        if self._thread.is_alive():
            self._thread.join(timeout_s)


def _check_same_start(head: Session, full: Session, end: int) -> None:
    before = [e for e in head.timeline.events if e.start < end]
    if full.timeline.chapters[1].start != end or \
            [e for e in full.timeline.events if e.start < end] != before:
        raise AssertionError("the intro was planned differently alone and in the full session")


class Start:
    """Where the session starts, and with what: the full session when resuming; else
    the intro alone while a thread prepares the rest (as explained above)."""

    def __init__(self, routine, synthesizer, places, source: str, resume: bool, screen,
                 background: bool = True):
        self.preparing = None
        if resume:
            self.session = prepare(routine, synthesizer=synthesizer)
            self.position = resume_position(self.session, places, source, screen)
        else:
            self.preparing = Preparing(routine, synthesizer, background)
            self.session, self.position = self.preparing.head, 0

    def play(self, player, due: float) -> Outcome:
        if self.preparing is None:
            return player.run(self.position, due)
        head_end = self.preparing.head_end
        outcome = player.run(0, due, until=head_end)
        while outcome == Outcome.REACHED:
            command = player.wait_for(self.preparing.ready)
            if command is None:
                player.use(self.preparing.session())
                due = player.due(head_end)
                late = player.clock() > due  # then a pause at the intro's end: a lead again
                return player.run(head_end, max(due, player.clock()), lead=late)
            outcome = Outcome.STOPPED if player.obey(command) == Outcome.STOPPED else player.loop()
        return outcome

    def close(self) -> None:
        if self.preparing is not None:
            self.preparing.cancel()


def resume_position(session, places, routine: str, screen) -> int:
    """The start of the exercise where the last session stopped (0 if none)."""
    chapter = places.find(session.timeline)
    if chapter is None:
        screen.note(f"No saved place for {routine}; starting from the beginning.")
        return 0
    screen.note(f"Resuming at {session.timeline.chapters[chapter].title}.")
    return session.timeline.chapters[chapter].start
