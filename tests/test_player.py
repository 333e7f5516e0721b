"""The live player's logic with a fake clock, fake keys and a fake sound device.

The fake device keeps every ``play`` call with its instant, so each test can rebuild what
a listener would have heard and when; the real device is tested in test_play_live.py.
"""

from __future__ import annotations

import io
import json
import os
import stat
import threading
import time

import numpy as np
import pytest

from voicecoach.errors import AudioDeviceError, EngineError
from voicecoach.live.commands import Command, Outcome
from voicecoach.history.places import Places
from voicecoach.live.play import Parts, play_routine
from voicecoach.session.request import SessionRequest
from voicecoach.live.player import Player
from voicecoach.routine import parse_routine
from voicecoach.live.screen import LineScreen, big, countdown, frame
from voicecoach.session.prepare import prepare
from voicecoach.plan.model import HOLD, SPEECH

from conftest import FakeSynthesizer
from voicecoach.plan.phrases import load_phrases

COUNT_IN = load_phrases("en").say("count_in")

ROUTINE = """
title: Player test
intro: Hello there.
outro: All done now.
exercises:
  - name: Reach
    cue: Reach up high.
    hold: 4s
    release: And relax.
  - name: Bend
    cue: Bend down slowly.
    hold: 3s
  - name: Twist
    cue: Twist to the side.
    hold: 2s
"""


class FakeClock:
    """Monotonic seconds that move only when the player waits (or a little per look)."""

    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        self.now += 0.0002  # looking at the clock takes time: spinning always ends
        return self.now


class FakeKeys:
    """Keys pressed at given instants (seconds after the clock's start)."""

    interactive = True

    def __init__(self, clock: FakeClock, presses=()):
        self.clock, self.presses = clock, sorted(presses)
        self.start = clock.now

    def wait(self, timeout_s: float):
        time.sleep(0.0002)  # a real thread (preparing the session) gets a moment too
        if self.presses and self.start + self.presses[0][0] <= self.clock.now + timeout_s:
            at, command = self.presses.pop(0)
            self.clock.now = max(self.clock.now, self.start + at)
            return command
        self.clock.now += timeout_s
        return None

    def update(self, *args, **kwargs):
        pass  # what plays: published only by the media buttons

    def close(self):
        pass


class FakePlayback:
    def __init__(self, device, samples, rate):
        self.device, self.started = device, device.clock.now
        self.samples, self.ends = samples.copy(), device.clock.now + len(samples) / rate
        self.stopped_at = None

    def stop(self):
        if self.stopped_at is None:
            self.stopped_at = self.device.clock.now

    def is_playing(self):
        if self.device.dead_at is not None and self.device.clock.now >= self.device.dead_at:
            return False
        return self.stopped_at is None and self.device.clock.now < self.ends


class FakeDevice:
    def __init__(self, clock: FakeClock, dead_at: float | None = None, missing: bool = False):
        self.clock, self.dead_at, self.missing = clock, dead_at, missing
        self.played: list[FakePlayback] = []

    def play(self, samples, rate):
        if self.missing or (self.dead_at is not None and self.clock.now >= self.dead_at):
            raise AudioDeviceError("ALSA: connection refused")
        playback = FakePlayback(self, samples, rate)
        self.played.append(playback)
        return playback

    def heard(self, rate: int, origin: float, length: int) -> np.ndarray:
        """Everything played (cut where stopped), mixed on one track from ``origin``."""
        track = np.zeros(length, np.int32)
        for p in self.played:
            at = round((p.started - origin) * rate)
            audio = p.samples[: None if p.stopped_at is None else round((p.stopped_at - p.started) * rate)]
            end = min(length, at + len(audio))
            if end > at >= 0:
                track[at:end] += audio[: end - at]
        return track


class FakeScreen:
    def __init__(self):
        self.shown, self.notes, self.closed = [], [], False

    def show(self, status, paused=False):
        self.shown.append((status, paused))

    def note(self, text):
        self.notes.append(text)

    def heard(self, word):
        self.notes.append(f"heard {word}")

    def close(self):
        self.closed = True


@pytest.fixture
def synth():
    return FakeSynthesizer()


@pytest.fixture
def session(synth):
    return prepare(parse_routine(ROUTINE), synthesizer=synth)


@pytest.fixture
def places(tmp_path):
    return Places("back-pain", tmp_path / "state")


def make_player(session, presses=(), places=None, dead_at=None):
    clock = FakeClock()
    device = FakeDevice(clock, dead_at=None if dead_at is None else clock.now + dead_at)
    keys = FakeKeys(clock, presses)
    return Player(session, device, keys, FakeScreen(), places, clock), clock, device


def render(session, start=0, end=None):
    return np.concatenate(list(session.chunks(start, end)))


def test_every_segment_starts_at_its_planned_instant_and_the_whole_render_is_heard(session):
    player, clock, device = make_player(session)
    origin = clock.now + 1.0
    assert player.run(0, origin) == "finished"
    rate = session.sample_rate
    lateness = [instant - player.due(position) for instant, position in player.started]
    assert len(lateness) > 10 and max(lateness) < 0.001 and min(lateness) >= 0
    heard = device.heard(rate, origin, session.timeline.total)
    # Starts are exact to the sample here, so the track is the renderer's output exactly.
    starts = [round((i - origin) * rate) - p for i, p in player.started]
    if max(map(abs, starts)) == 0:
        assert np.array_equal(heard, render(session))
    assert np.array_equal(np.concatenate([p.samples for p in device.played]), render(session))


def test_after_a_stall_the_rest_follows_instead_of_starting_all_at_once(session):
    player, clock, device = make_player(session)
    stalled = []

    class StallingKeys(FakeKeys):
        def wait(self, timeout_s):
            if not stalled and self.clock.now - self.start > 3.0:
                stalled.append(self.clock.now)
                self.clock.now += 4.0  # the process was stopped for 4 s
            return super().wait(timeout_s)

    player.keys = StallingKeys(clock)
    assert player.run(0, clock.now) == "finished"
    instants = [instant for instant, _ in player.started]
    assert min(b - a for a, b in zip(instants, instants[1:])) > 0.2  # never two at once
    after = [(i, p) for i, p in player.started if i > stalled[0]]
    for (i1, p1), (i2, p2) in zip(after, after[1:]):  # spaced as planned after the stall
        assert i2 - i1 == pytest.approx((p2 - p1) / session.sample_rate, abs=0.002)


def test_finishing_forgets_the_place(session, places):
    places.save(2, "Bend")
    player, clock, _ = make_player(session, places=places)
    assert player.run(0, clock.now) == "finished"
    assert places.saved() is None


def test_place_is_saved_at_each_chapter_start(session, places, monkeypatch):
    saved = []
    monkeypatch.setattr(places, "save", lambda chapter, title: saved.append((chapter, title)))
    player, clock, _ = make_player(session, places=places)
    player.run(0, clock.now)
    assert saved == [(0, "Introduction"), (1, "Reach"), (2, "Bend"), (3, "Twist"), (4, "Finish")]


def test_q_stops_the_sound_and_the_place_is_that_exercise(session, places):
    bend = session.timeline.chapters[2].start / session.sample_rate
    player, clock, device = make_player(session, [(bend + 1.5, Command.QUIT)], places)
    assert player.run(0, clock.now) == Outcome.STOPPED
    assert all(p.stopped_at is not None or p.ends <= clock.now for p in device.played)
    assert places.saved() == {"chapter": 2, "title": "Bend"}
    assert player.keep_current_place() == "Bend"


def test_pause_keeps_silence_then_counts_in_and_repeats_the_cue_cut_off(session, synth):
    rate = session.sample_rate
    cue = next(e for e in session.timeline.events if e.text == "Bend down slowly.")
    at = cue.start / rate + 0.1  # in the middle of the cue (the fake clock starts at anchor)
    player, clock, device = make_player(session, [(at, Command.PAUSE), (at + 5.0, Command.PAUSE)])
    start = clock.now
    assert player.run(0, start) == "finished"
    count_in = [p for p in device.played if len(p.samples) == len(session.speech.audio(COUNT_IN))]
    assert len(count_in) == 1 and COUNT_IN in synth.calls
    assert np.array_equal(count_in[0].samples, session.speech.audio(COUNT_IN).samples)
    assert count_in[0].started - (start + at) == pytest.approx(5.0, abs=0.01)  # silence while paused
    after = [p for p in device.played if p.started > count_in[0].started]
    assert after[0].started == pytest.approx(count_in[0].ends + 0.5, abs=0.002)
    assert np.array_equal(after[0].samples[: cue.length], render(session, cue.start, cue.end))


def test_pause_in_a_hold_continues_the_hold_where_it_was(session):
    rate = session.sample_rate
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    at = (hold.start + rate * 1.5) / rate  # after "Three" (1 s into the 4 s hold), before "Two"
    player, clock, device = make_player(session, [(at, Command.PAUSE), (at + 2.0, Command.PAUSE)])
    player.run(0, clock.now)
    resumed = [position for instant, position in player.started if instant > player.keys.start + at][0]
    assert abs(resumed - (hold.start + 1.5 * rate)) < rate * 0.001  # the hold goes on from 1.5 s


@pytest.mark.parametrize("command, chapter", [(Command.NEXT, 3), (Command.PREVIOUS, 1)])
def test_n_and_p_jump_to_the_next_and_previous_exercise(session, command, chapter):
    bend = session.timeline.chapters[2]
    at = (bend.start + session.sample_rate * 2) / session.sample_rate
    player, clock, device = make_player(session, [(at, command)])
    player.run(0, clock.now)
    jumped = [(instant, position) for instant, position in player.started if instant > clock.now - 1e9
              and instant >= player.keys.start + at]
    assert jumped[0][1] == session.timeline.chapters[chapter].start
    assert jumped[0][0] == pytest.approx(player.keys.start + at + 0.3, abs=0.002)


def test_n_in_the_last_chapter_ends_the_session(session):
    finish = session.timeline.chapters[-1].start / session.sample_rate
    player, clock, _ = make_player(session, [(finish + 0.2, Command.NEXT)])
    assert player.run(0, clock.now) == "finished"


def test_r_repeats_the_last_instruction_not_the_counting(session):
    rate = session.sample_rate
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    at = (hold.end - rate // 4) / rate  # just after "One"
    player, clock, _ = make_player(session, [(at, Command.REPEAT)])
    player.run(0, clock.now)
    after = [p for i, p in player.started if i >= player.keys.start + at]
    cue = next(e for e in session.timeline.events if e.text == "Reach up high.")
    assert after[0] == cue.start


def test_pause_then_n_moves_the_place_and_resumes_there_with_a_count_in(session):
    at = 1.0
    player, clock, device = make_player(session, [(at, Command.PAUSE), (at + 1, Command.NEXT)])
    player.run(0, clock.now)
    after = [p for i, p in player.started if i >= player.keys.start + at]
    assert after[0] == session.timeline.chapters[1].start
    assert any(len(p.samples) == len(session.speech.audio(COUNT_IN)) for p in device.played)


def test_speech_failing_at_the_count_in_raises_engine_error(tmp_path):
    session = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer(fail_on="Get ready"))
    player, clock, _ = make_player(session, [(1.0, Command.PAUSE), (2.0, Command.PAUSE)])
    with pytest.raises(EngineError, match="Get ready"):
        player.run(0, clock.now)


def test_the_audio_server_dying_is_noticed_during_a_long_silence(session):
    player, clock, device = make_player(session, dead_at=5.0)
    with pytest.raises(AudioDeviceError, match="the audio server stopped during the session"):
        player.run(0, clock.now)
    assert clock.now - player.keys.start < 5.0 + 0.5


def test_play_routine_no_device_says_how_to_export(tmp_path):
    clock = FakeClock()
    device = FakeDevice(clock, missing=True)
    with pytest.raises(AudioDeviceError) as error:
        play_routine(SessionRequest("back-pain"),
            parts=Parts(synthesizer=FakeSynthesizer(), device=device, stdin=io.StringIO(),
                        stdout=io.StringIO(), clock=clock))
    assert str(error.value) == ("no sound device could be opened (ALSA: connection refused); to listen "
                                "without one, export the session: voicecoach export back-pain -o session.mp3")


def test_the_no_device_line_repeats_the_voice_options_given(tmp_path):
    """Those that differ from the defaults (engine auto, rate 140), shell-quoted."""
    routine = tmp_path / "my back.yaml"
    routine.write_text(ROUTINE)
    clock = FakeClock()
    with pytest.raises(AudioDeviceError) as error:
        play_routine(SessionRequest(str(routine), engine="espeak", voice="en-us", rate=120, language="de"),
                     parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock, missing=True),
                                 stdin=io.StringIO(), stdout=io.StringIO(), clock=clock))
    assert str(error.value).endswith(f"; to listen without one, export the session: voicecoach export "
                                     f"'{routine}' -o session.mp3 --engine espeak --voice en-us "
                                     "--rate 120 --language de")
    with pytest.raises(AudioDeviceError) as error:
        play_routine(SessionRequest("back-pain", engine="auto", voice="joe's", rate=140),
                     parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock, missing=True),
                                 stdin=io.StringIO(), stdout=io.StringIO(), clock=clock))
    assert str(error.value).endswith("export the session: voicecoach export back-pain -o session.mp3 "
                                     "--voice 'joe'\"'\"'s'")


def _write_routine(tmp_path) -> str:
    path = tmp_path / "routine.yaml"
    path.write_text(ROUTINE)
    return str(path)


def test_play_routine_keeps_the_place_when_the_server_dies(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    clock = FakeClock()
    controls = FakeKeys(clock)
    device = FakeDevice(clock, dead_at=clock.now + 12.0)
    with pytest.raises(AudioDeviceError) as error:
        play_routine(SessionRequest(routine), lead_in_s=0.5,
            parts=Parts(synthesizer=FakeSynthesizer(), device=device, stdout=io.StringIO(),
                        clock=clock, controls=controls, background=False))
    assert str(error.value).startswith("the audio server stopped during the session")
    assert str(error.value).endswith(f"; your place is kept: voicecoach play {routine} --resume")
    assert Places(routine).saved()["title"] in ("Reach", "Bend")


def test_play_routine_keeps_the_place_when_speech_fails_mid_session(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    session = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())
    at = session.timeline.chapters[2].start / session.sample_rate + 0.5  # in Bend's first cue
    clock = FakeClock()
    controls = FakeKeys(clock, [(at, Command.PAUSE), (at + 1, Command.PAUSE)])
    with pytest.raises(EngineError) as error:
        play_routine(SessionRequest(routine), lead_in_s=0,
            parts=Parts(synthesizer=FakeSynthesizer(fail_on="Get ready"), device=FakeDevice(clock),
                        stdout=io.StringIO(), clock=clock, controls=controls, background=False))
    assert str(error.value) == ("fake engine failed on 'Get ready. Three, two, one.'; "
                                f"your place is kept: voicecoach play {routine} --resume")
    assert Places(routine).saved() == {"chapter": 2, "title": "Bend"}


def test_q_then_resume_starts_at_that_exercise(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    session = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())
    at = session.timeline.chapters[2].start / session.sample_rate + 1.0
    clock = FakeClock()
    controls = FakeKeys(clock, [(at, Command.QUIT)])
    out = io.StringIO()
    code = play_routine(SessionRequest(routine), lead_in_s=0,
        parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock), stdin=None, stdout=out,
                    clock=clock, controls=controls, background=False))
    assert code == 0
    assert out.getvalue().splitlines()[-1] == \
        f"Stopped at Bend. To continue from there: voicecoach play {routine} --resume"
    device, out = FakeDevice(clock), io.StringIO()
    controls = FakeKeys(clock)
    play_routine(SessionRequest(routine), lead_in_s=0, resume=True,
        parts=Parts(synthesizer=FakeSynthesizer(), device=device, stdout=out, clock=clock,
                    controls=controls, background=False))
    segments = device.played[1:]  # after the lead-in
    assert np.array_equal(segments[0].samples[:1000], render(session, session.timeline.chapters[2].start,
                                                              session.timeline.chapters[2].start + 1000))
    assert "Resuming at Bend." in out.getvalue()
    assert out.getvalue().splitlines()[-1] == "Session complete: Player test."
    assert Places(routine).saved() is None


def test_resume_without_a_saved_place_starts_from_the_beginning(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    clock = FakeClock()
    controls = FakeKeys(clock)
    out = io.StringIO()
    play_routine(SessionRequest(routine), lead_in_s=0, resume=True,
        parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock), stdout=out,
                    clock=clock, controls=controls, background=False))
    assert out.getvalue().splitlines()[0] == f"No saved place for {routine}; starting from the beginning."


class GatedSynthesizer(FakeSynthesizer):
    """Says the intro at once; everything else waits until ``release`` is set."""

    def __init__(self, intro: str):
        super().__init__()
        self.intro, self.release = intro, threading.Event()

    def synthesize(self, text):
        if text != self.intro:
            assert self.release.wait(timeout=10)
        return super().synthesize(text)


def test_the_intro_plays_while_the_rest_is_still_being_prepared(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    synth = GatedSynthesizer("Hello there.")
    clock = FakeClock()

    class Keys(FakeKeys):
        def wait(self, timeout_s):
            if self.clock.now > self.start + 3.0:
                synth.release.set()  # 3 s in: the intro (0.9 s) is over, preparing goes on
            return super().wait(timeout_s)

    controls = Keys(clock)
    device, screen = FakeDevice(clock), FakeScreen()
    start = clock.now
    assert play_routine(SessionRequest(routine), lead_in_s=0.5,
        parts=Parts(synthesizer=synth, device=device, stdout=io.StringIO(), clock=clock,
                    controls=controls, screen=screen)) == 0
    full = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())
    head_end = full.timeline.chapters[1].start
    intro, *rest = device.played[1:]  # after the lead-in
    assert intro.started - start == pytest.approx(0.5, abs=0.002)  # on time, nothing else ready
    assert np.array_equal(intro.samples, render(full, 0, head_end))
    assert rest[0].started >= start + 3.0  # waited for the rest, then went on from there
    assert np.array_equal(np.concatenate([p.samples for p in rest]), render(full, head_end))
    waiting = [s for s, _ in screen.shown if s.step == "ready" and s.chapter == "Introduction"]
    assert waiting and all(s.total_s is None for s in waiting)


def test_the_screen_follows_the_intro_then_the_exercises(tmp_path, monkeypatch):
    routine = _write_routine(tmp_path)
    clock = FakeClock()
    controls = FakeKeys(clock)
    screen = FakeScreen()
    play_routine(SessionRequest(routine), lead_in_s=0.5,
        parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock), stdout=io.StringIO(),
                    clock=clock, controls=controls, screen=screen, background=False))
    shown = [(s.chapter, s.step) for s, _ in screen.shown]
    steps = [step for i, step in enumerate(shown) if i == 0 or shown[i - 1] != step]
    assert steps[:3] == [("Introduction", "ready"), ("Introduction", "say"), ("Introduction", "")]
    assert steps[3:6] == [("Reach", "say"), ("Reach", ""), ("Reach", "say")]
    assert ("Reach", "hold") in steps and steps[-1][0] == "Finish"
    assert all(step != "ready" for _, step in steps[1:])


def test_places_file_is_private_and_replaced_whole(tmp_path):
    places = Places("back-pain", tmp_path / "state")
    places.save(3, "Knee rolls")
    mode = stat.S_IMODE(os.stat(places.path).st_mode)
    assert mode == 0o600
    assert json.loads(places.path.read_text()) == {"builtin:back-pain": {"chapter": 3, "title": "Knee rolls"}}
    places.path.write_text("{not json")
    assert places.saved() is None  # a damaged file is a lost place, not a crash (and is set aside)
    places.save(1, "Pelvic tilt")
    assert places.saved() == {"chapter": 1, "title": "Pelvic tilt"}
    names = sorted(p.name for p in places.path.parent.iterdir())  # no temporary left
    assert names[0] == "places.json" and names[1].startswith("places.json.damaged-") and len(names) == 2


def test_a_place_is_found_by_title_when_the_routine_changed(session, tmp_path):
    places = Places("back-pain", tmp_path)
    places.save(1, "Bend")  # Bend is chapter 2 now
    assert places.find(session.timeline) == 2
    places.save(1, "Gone")
    assert places.find(session.timeline) is None


# -- what is shown -------------------------------------------------------------------------

def test_big_digits_and_countdown():
    assert countdown(2.01) == "3" and countdown(3.0) == "3" and countdown(0.2) == "1"
    assert countdown(75) == "1:15"
    rows = big("12")
    assert rows == ["  ██    ██████", "████        ██", "  ██    ██████", "  ██    ██    ", "██████  ██████"]


def test_frame_shows_exercise_step_time_left_and_progress(session):
    from voicecoach.live.playplan import Guide
    guide = Guide(session.timeline)
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    lines = [text.strip() for _, text in frame("Player test", guide.status(hold.start + 100), 80)]
    assert lines[1] == "Player test · Exercise 1 of 3"
    assert "REACH" in lines and "Hold" in lines and "Reach up high." in lines
    assert big("4")[0].strip() in lines  # 4 s left, in big digits
    assert lines[-1] == "space pause · n next · p previous · r repeat · q stop · h it hurts"
    paused = [text.strip() for _, text in frame("Player test", guide.status(hold.start + 100), 80, paused=True)]
    assert "Paused" in paused and paused[-1] == "press space to continue, q to stop, h if it hurts"


def test_line_screen_prints_one_short_line_per_step(session):
    from voicecoach.live.playplan import Guide
    guide = Guide(session.timeline)
    out = io.StringIO()
    screen = LineScreen("Player test", out)
    for position in range(0, session.timeline.total, session.sample_rate // 10):
        screen.show(guide.status(position))
    lines = out.getvalue().splitlines()
    assert lines[0] == " 0:00  Introduction: Hello there."
    assert "  Reach: hold 4 s" in [line[5:] for line in lines]
    assert len(lines) == len(set(lines)) < 20
