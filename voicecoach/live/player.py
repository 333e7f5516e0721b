"""Live playback: the session's rendered stream, played on the sound device, on time.

The renderer's stream is cut at silences into segments (``playplan.segments``). Each one
is started with its own ``play`` call at its planned instant, counted on one monotonic
clock from one anchor (a timeline position and the instant it is due). So the small,
random delay of opening a sound stream never adds up: every cue starts within a few
milliseconds of its plan, however long the session; a constant output latency just
shifts everything. Segments hold their silent tails too, so a stream is always open
and what is heard is the renderer's output, sample for sample.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Callable

import numpy as np

from ..audio import Audio
from ..errors import AudioDeviceError
from ..history.places import Places
from ..session.prepare import Session
from .commands import MOVES, STOPS, Command, Outcome, PlayState
from .controls.control import Control, Listening
from .device import Playback, SoundDevice
from .playplan import Guide, segments
from .screen import Screen

AFTER_COUNT_IN_S = 0.5     # silence between the count-in and the cue it leads into
AFTER_SKIP_S = 0.3         # lets the stopped stream's last buffered ~0.1 s play out first
LEAD_IN_MARGIN_S = 5.0     # the lead-in stream keeps playing silence if preparing runs late
TICK_S = 0.1               # screen, keys and device checks, between segment starts
SPIN_S = 0.002             # the last moments before a start are waited for by spinning
TAIL_S = 0.3               # after the last sound, before saying the session is complete
EARLY_END_S = 0.5          # a stream ending this much before its audio did: the server died
STALL_S = 0.5              # a start this late (process stopped, machine stalled): shift the rest
# A spoken command obeyed is acknowledged by a tick: short enough to end before the next
# cue (which starts AFTER_SKIP_S after a skip), a pure tone, which the listener's voice gate
# never takes for a word (and it is muted for the listener besides).
TICK_HZ, TICK_LENGTH_S = 1320.0, 0.08


class Player:
    """Plays one prepared session from a position, obeying the controls (``keys``, a
    ``Control``: they are told what plays, see ``publish``), until done or stopped.
    ``spoken`` (optional, the spoken commands) is told when the coach's own sounds are
    heard: see ``mute``."""

    def __init__(self, session: Session, device: SoundDevice, keys: Control, screen: Screen,
                 places: Places | None = None, clock: Callable[[], float] = time.monotonic,
                 spoken: Listening | None = None):
        self.session, self.device, self.keys, self.screen = session, device, keys, screen
        self.spoken = spoken
        self.places, self.clock = places, clock
        self.timeline = session.timeline
        self.rate = session.sample_rate
        self.guide = Guide(self.timeline)
        self.playing: list[tuple[Playback, float]] = []  # (playback, instant its audio ends)
        self.plan: list[tuple[int, int]] = []
        self.next = 0
        self.anchor = (0, 0.0)  # (timeline position, monotonic instant it is heard)
        self.lead_until = 0.0  # before this instant nothing of the timeline is heard yet
        self.until: int | None = None  # where to hand over while the rest is prepared
        self.saved_chapter: int | None = None
        self._ready: tuple[int, np.ndarray] | None = None
        self.started: list[tuple[float, int]] = []  # (instant, position) of every segment started
        self.stopped_by: Command | None = None  # the command that stopped it: QUIT or PAIN

    # -- timing ------------------------------------------------------------------------

    def due(self, position: int) -> float:
        origin, instant = self.anchor
        return instant + (position - origin) / self.rate

    def position(self) -> int:
        """The timeline position being played now (during a lead: where it will start)."""
        origin, instant = self.anchor
        now = self.clock()
        if now < self.lead_until:
            return origin
        return max(0, min(self.end, origin + int((now - instant) * self.rate)))

    @property
    def end(self) -> int:
        return self.timeline.total if self.until is None else self.until

    def go(self, start: int, due: float, lead: bool = True) -> None:
        """Play from timeline position ``start``, heard at instant ``due``. With ``lead``
        what comes before ``due`` is not the timeline (a lead-in, a count-in); without,
        it is the same timeline going on (the full session taking over from the intro)."""
        self.plan = segments(self.timeline, start, self.until)
        self.next = 0
        self.anchor = (start, due)
        if lead:
            self.lead_until = due
        self._ready = None

    # -- the loop ----------------------------------------------------------------------

    def run(self, start: int, due: float, until: int | None = None, lead: bool = True) -> Outcome:
        """Play from ``start`` (heard at ``due``, see ``go``): ``FINISHED`` at the end,
        ``STOPPED``, or with ``until``, ``REACHED`` once all before it has started."""
        self.until = until
        self.go(start, due, lead)
        return self.loop()

    def loop(self) -> Outcome:
        """Go on with the current plan (see ``run``)."""
        while True:
            if self.next < len(self.plan):
                command = self.wait_until(self.due(self.plan[self.next][0]))
            elif self.until is not None:
                return Outcome.REACHED
            else:
                command = self.wait_until(self.due(self.timeline.total) + TAIL_S)
                if command is None:
                    self.forget_place()
                    return Outcome.FINISHED
            if command is None:
                self.catch_up()
                self.start_segment()
            elif self.obey(command) == Outcome.STOPPED:
                return Outcome.STOPPED

    def wait_for(self, ready: Callable[[], bool]) -> Command | None:
        """Until ``ready()`` (the full session), keys still work; a key first is returned."""
        while not ready():
            command = self.wait_until(self.clock() + TICK_S)
            if command is not None:
                return command
        return None

    def use(self, session: Session, until: int | None = None) -> None:
        """A longer head of the intro (to its new ``until``) or the full session takes over
        from the one playing (same samples up to the old ``until``)."""
        self.session, self.timeline, self.rate = session, session.timeline, session.sample_rate
        self.guide = Guide(self.timeline)
        self.until = until

    def wait_until(self, instant: float) -> Command | None:
        """Wait for ``instant`` while showing the status; a key pressed first is returned."""
        while True:
            left = instant - self.clock()
            if left <= 0:
                return None
            if left <= SPIN_S:
                continue  # sleeping this close could overshoot by more than the wait itself
            self.check_device()
            self.screen.show(self.status())
            command = self.keys.wait(min(TICK_S, left - SPIN_S))
            if command is not None:
                return command

    def status(self):
        """What the screen shows now: "Get ready" before the anchor (lead-in, count-in)
        and at the intro's end while the rest is still being prepared."""
        position = self.position()
        status = self.guide.status(min(position, self.end - 1))
        if self.until is not None:  # the intro alone: the session's length is not known yet
            status = dataclasses.replace(status, exercise_count=None, total_s=None)
        if self.clock() < self.lead_until or (self.until is not None and position >= self.until):
            status = dataclasses.replace(status, step="ready", seconds_left=None)
        return status

    def catch_up(self) -> None:
        """After a stall (Ctrl-Z, a frozen machine) the next segment starts now and the
        rest follows it, rather than every overdue segment at once and holds cut short.
        Smaller delays are not carried over: the next segment is on time again."""
        begin, now = self.plan[self.next][0], self.clock()
        if now - self.due(begin) > STALL_S:
            self.anchor, self.lead_until = (begin, now), now

    def start_segment(self) -> None:
        begin, end = self.plan[self.next]
        samples = self.audio(self.next)
        instant = self.clock()
        self.playing = [(p, t) for p, t in self.playing if t > instant - 1.0]
        self.playing.append((self.play(samples), self.due(end)))
        self.mute(self.sound_intervals(begin, end))
        self.started.append((instant, begin))
        self.next += 1
        self.keep_place(self.guide.place_chapter(min(begin, self.end - 1)))
        self.publish(PlayState.PLAYING)
        if self.next < len(self.plan):
            self._ready = (self.next, self.audio(self.next))  # render ahead, off the clock

    def audio(self, index: int) -> np.ndarray:
        if self._ready is not None and self._ready[0] == index:
            return self._ready[1]
        begin, end = self.plan[index]
        return np.concatenate(list(self.session.chunks(begin, end)))

    def play(self, samples: np.ndarray) -> Playback:
        try:
            return self.device.play(samples, self.rate)
        except AudioDeviceError as error:
            raise AudioDeviceError(f"the audio server stopped during the session ({error})") from None

    def stop_sound(self) -> None:
        for playback, _ in self.playing:
            playback.stop()
        self.playing = []

    def check_device(self) -> None:
        """A stream that ends well before its audio did means the audio server went away."""
        now = self.clock()
        for playback, ends in self.playing:
            if now < ends - EARLY_END_S and not playback.is_playing():
                self.playing = []
                raise AudioDeviceError("the audio server stopped during the session")

    # -- what the controls are told ----------------------------------------------------

    def sound_intervals(self, begin: int, end: int) -> list[tuple[float, float]]:
        """When the timeline's sounds (its speech and chimes; the rest is silence) between
        positions ``begin`` and ``end`` are heard: monotonic ``(start_s, end_s)`` on the
        current anchor. Pure."""
        return [(self.due(max(e.start, begin)), self.due(min(e.end, end)))
                for e in self.guide.sounds if e.start < end and e.end > begin]

    def mute(self, intervals: list[tuple[float, float]]) -> None:
        """Tell the spoken commands when the coach sounds from now on (nothing: it went
        quiet now, a pause or a skip), so its own words never command it."""
        if self.spoken is not None:
            self.spoken.mute_while(intervals, now_s=self.clock())

    def publish(self, status: PlayState) -> None:
        """Tell the controls (those that publish it: MPRIS) what plays: the status, the
        chapter as the track, the routine as the album, how far into the chapter."""
        position = min(self.position(), self.end - 1)
        chapter = self.guide.chapter_at(position)
        begin = self.timeline.chapters[chapter].start
        self.keys.update(status, self.timeline.title, self.timeline.chapters[chapter].title,
               (self.timeline.chapter_end(chapter) - begin) / self.rate,
               position_s=max(0, position - begin) / self.rate, track=chapter + 1)

    # -- keys --------------------------------------------------------------------------

    def obey(self, command: Command) -> Outcome | None:
        position = self.position()
        if command in STOPS:
            self.stop_sound()
            self.mute([])
            self.acknowledge(tick=False)  # the silence says it; the pain line may follow
            self.stopped_by = Command(command)
            return Outcome.STOPPED
        if command == Command.PAUSE:
            return self.pause(position)
        if command not in MOVES:
            return None  # "continue" while playing; a check-in answer (1, 2, 3) before the check-in
        self.stop_sound()
        self.mute([])
        self.acknowledge(tick=True)
        self.go(self.target(command, position), self.clock() + AFTER_SKIP_S)
        return None

    def acknowledge(self, tick: bool) -> None:
        """If the command just obeyed was spoken: the word heard on the screen, and with
        ``tick`` (the coach has just gone quiet: a skip or a pause) a short tick in that
        silence, before any cue. Keys and buttons need neither: their press is felt."""
        heard = self.spoken.taken() if self.spoken is not None else None
        if heard is None:
            return
        self.screen.heard(heard.word)
        if tick:
            samples = Audio.tone(TICK_HZ, TICK_LENGTH_S, self.rate, volume=0.2).samples
            now = self.clock()
            self.playing.append((self.play(samples), now + TICK_LENGTH_S))
            self.mute([(now, now + TICK_LENGTH_S)])

    def target(self, command: Command, position: int) -> int:
        chapter = self.guide.chapter_at(position)
        if command == Command.NEXT:
            return self.guide.chapter_start(chapter + 1) if chapter + 1 < len(self.timeline.chapters) \
                else self.timeline.total
        if command == Command.PREVIOUS:
            return self.guide.chapter_start(chapter - 1)
        if command == Command.REPEAT:
            return self.guide.last_instruction_start(position)
        return position

    def pause(self, position: int) -> Outcome | None:
        """Silence until a command: space (or "pause", "continue") goes on, n/p/r go on
        from there; each after a spoken count-in. A cue that was cut off is said again
        from its start. Other commands (a check-in answer) are ignored while paused."""
        self.stop_sound()
        self.mute([])
        self.acknowledge(tick=True)
        resume_at = self.guide.resume_point(position)
        self.anchor, self.plan = (resume_at, math.inf), []  # the position stays put while paused
        self.lead_until = math.inf
        self.keep_place(self.guide.place_chapter(min(resume_at, self.end - 1)))
        self.publish(PlayState.PAUSED)
        status = self.status()
        self.screen.show(status, paused=True)
        self.session.speech.audio(self.session.phrases.say("count_in"))  # made now, said at once on resuming
        command = None
        while command not in (Command.PAUSE, Command.CONTINUE, *MOVES, *STOPS):
            self.screen.show(status, paused=True)
            command = self.keys.wait(TICK_S)
        self.acknowledge(tick=False)  # the count-in that follows is heard at once
        if command in STOPS:
            self.stopped_by = Command(command)
            return Outcome.STOPPED
        if command in MOVES:
            resume_at = self.target(command, resume_at)
        self.screen.show(dataclasses.replace(status, step="ready", seconds_left=None))  # not "Paused" a moment more
        self.count_in(resume_at)
        return None

    def count_in(self, resume_at: int) -> None:
        """The pack's "Get ready. Three, two, one." in the session's voice, then the timeline again."""
        now, length_s = self.say(self.session.phrases.say("count_in"))  # cached after its first use
        self.go(resume_at, now + length_s + AFTER_COUNT_IN_S)
        self.publish(PlayState.PLAYING)

    def say(self, text: str) -> tuple[float, float]:
        """Say ``text`` in the session's voice now, over whatever plays, with the spoken
        commands deaf to it for its span (its own words never command the coach). Returns
        at once: the instant it started and its length in seconds. Raises ``EngineError``
        or ``AudioDeviceError`` when it cannot be said."""
        audio = self.session.speech.audio(text)
        now = self.clock()
        length_s = len(audio) / self.rate
        self.playing.append((self.play(audio.samples), now + length_s))
        self.mute([(now, now + length_s)])
        return now, length_s

    # -- the place kept for --resume ---------------------------------------------------

    def keep_place(self, chapter: int) -> None:
        if self.places is None or chapter == self.saved_chapter:
            return
        try:
            self.places.save(chapter, self.timeline.chapters[chapter].title)
            self.saved_chapter = chapter
        except OSError:
            pass  # a place that cannot be saved must not stop the session itself

    def keep_current_place(self) -> str:
        """Save where the session is now; returns that chapter's title."""
        chapter = self.guide.place_chapter(min(self.position(), self.end - 1))
        self.keep_place(chapter)
        return self.timeline.chapters[chapter].title

    def forget_place(self) -> None:
        if self.places is not None:
            try:
                self.places.clear()
            except OSError:
                pass
