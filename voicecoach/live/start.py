"""Starting a live session quickly: the intro is spoken while the rest is prepared.

Planning needs every cue's real length, so the whole routine must be synthesized before
the timeline exists; with nothing cached that takes about a second for the built-in
routine with espeak-ng, and a minute with Piper on a busy machine. But the first chapter
is the intro alone, one cue per sentence, and where a sentence starts depends only on the
sentences before it. So the first sentence is synthesized first and planned by the same
scheduler, on the routine without its exercises (other lengths do not matter there); it
plays while a thread synthesizes the next sentence, hands over a longer head of the intro
(ending where the sentence after it starts), and so on; then it prepares the full session.
Each head is checked to begin with exactly the same events as the one before it.
"""

from __future__ import annotations

import dataclasses
from threading import Lock, Thread

from ..plan.phrases import load_phrases
from ..plan.timeline import build_timeline
from ..plan.wording import intro_sentences
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


def head_session(routine, cache: SpeechCache, said: int) -> tuple[Session, int]:
    """The intro's first ``said`` sentences as a session of their own, and where it ends
    (in samples): where the next sentence starts, or after the last, the first exercise."""
    phrases = load_phrases(routine.language)
    known = set(intro_sentences(routine, phrases)[:said])
    bare = dataclasses.replace(routine, exercises=())
    timeline = build_timeline(bare, lambda text: cache.samples(text) if text in known else 0,
                              lambda sound: 0, cache.synthesizer.sample_rate, phrases)
    intro = [event for event in timeline.events if event.chapter == 0]
    end = intro[said].start if said < len(intro) else timeline.chapters[1].start
    return Session(routine, timeline, cache, {}, phrases), end


class Preparing:
    """``head`` (and ``head_end``) now: the intro's first sentence; ``after(end)`` the next
    head, then the full session (``session()``), as the thread prepares them."""

    def __init__(self, routine, synthesizer, background: bool = True):
        synthesizer = SerialSynthesizer(synthesizer)
        load_chimes(routine, synthesizer.sample_rate)  # a bad sound file is bad input: say so now
        self._cache = SpeechCache(synthesizer)
        self._sentences = len(intro_sentences(routine, load_phrases(routine.language)))
        self.head, self.head_end = head_session(routine, self._cache, 1)
        self._heads: dict[int, tuple[Session, int]] = {}  # by the end of the head before
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
            end = self.head_end
            for said in range(2, self._sentences + 1):
                self._progress(0, 0)
                head = head_session(routine, self._cache, said)
                self._heads[end], end = head, head[1]
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

    def ready_after(self, end: int, skipped: bool = False) -> bool:
        """Whether what follows the head ending at ``end`` is there (with ``skipped``:
        the full session, the intro being skipped)."""
        return self.ready() or (not skipped and end in self._heads)

    def after(self, end: int, skipped: bool = False) -> tuple[Session, int | None]:
        """What follows the head ending at ``end``: a longer head and its end, or the full
        session and None (waits for it); raises what preparing it raised."""
        if not skipped and end in self._heads:
            return self._heads[end]
        return self.session(), None

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


def _check_same_start(head: Session, longer: Session, end: int) -> None:
    """``longer`` (a longer head or the full session) plans the same as ``head`` up to
    ``end``, where ``head`` hands over, and starts a sound there."""
    before = [e for e in head.timeline.events if e.start < end]
    if [e for e in longer.timeline.events if e.start < end] != before or \
            not any(e.start == end for e in longer.timeline.events):
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
        end, current = self.preparing.head_end, self.preparing.head
        outcome = player.run(0, due, until=end)
        while outcome == Outcome.REACHED:
            skipped = player.anchor[0] > end  # "next" in the intro: on to the first exercise
            command = player.wait_for(lambda: self.preparing.ready_after(end, skipped))
            if command is not None:
                outcome = Outcome.STOPPED if player.obey(command) == Outcome.STOPPED else player.loop()
                continue
            longer, following = self.preparing.after(end, skipped)
            start = longer.timeline.chapters[1].start if skipped else end
            if not skipped:
                _check_same_start(current, longer, end)
            due = player.due(player.anchor[0] if skipped else end)
            player.use(longer, following)
            late = player.clock() > due  # then a pause before it: a lead again
            outcome = player.run(start, max(due, player.clock()), until=following, lead=late or skipped)
            end, current = following, longer
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
