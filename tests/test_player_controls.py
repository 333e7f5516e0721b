"""What the player tells its controls, on the fake clock: when its own sounds are heard
(for the spoken commands, which ignore words said over them), what plays (for MPRIS),
and the spoken "continue"."""

from __future__ import annotations

import numpy as np
import pytest

from fakes import COUNT_IN, ROUTINE, FakeClock, FakeDevice, FakeKeys, FakeScreen, FakeSynthesizer
from voicecoach.live.commands import Command
from voicecoach.live.play import with_intro_sentences
from voicecoach.live.player import Player
from voicecoach.live.start import Preparing
from voicecoach.plan.model import CHIME, HOLD, SPEECH
from voicecoach.routine import parse_routine
from voicecoach.session.prepare import prepare


class FakeSpoken:
    """Keeps every ``mute_while`` as the spoken commands would: the future replaced."""

    def __init__(self, words=()):
        self.calls: list[tuple[float, list]] = []
        self.words = list(words)  # what ``taken`` says was heard, one per command obeyed

    def mute_while(self, intervals, now_s):
        self.calls.append((now_s, list(intervals)))

    def taken(self):
        from voicecoach.live.controls.spoken import Heard
        if not self.words:
            return None
        word = self.words.pop(0)
        return Heard(word, Command.NEXT, 0.0, 0.0, 0.0, False)

    def muted(self) -> list[tuple[float, float]]:
        """The intervals in force at the end: each call cuts what it replaces at its instant."""
        kept: list[tuple[float, float]] = []
        for now, intervals in self.calls:
            kept = [(a, min(b, now)) for a, b in kept if a <= now] + intervals
        return kept


class PublishingKeys(FakeKeys):
    def __init__(self, clock, presses=()):
        super().__init__(clock, presses)
        self.updates = []

    def update(self, status, title, exercise, length_s, position_s=0.0, track=None):
        self.updates.append((status, title, exercise, round(length_s, 3), track))


@pytest.fixture
def session():
    return prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())


def make(session, presses=()):
    clock = FakeClock()
    device, keys, spoken = FakeDevice(clock), PublishingKeys(clock, presses), FakeSpoken()
    return Player(session, device, keys, FakeScreen(), None, clock, spoken=spoken), clock, device, spoken


def sounding(device, rate) -> list[tuple[float, float]]:
    """When the device really made sound: each playback's non-zero stretches (cut where stopped)."""
    spans = []
    for p in device.played:
        audio = p.samples[: None if p.stopped_at is None else round((p.stopped_at - p.started) * rate)]
        loud = np.flatnonzero(audio)
        if loud.size:
            breaks = np.flatnonzero(np.diff(loud) > 1)
            for a, b in zip(np.r_[loud[0], loud[breaks + 1]], np.r_[loud[breaks], loud[-1]]):
                spans.append((p.started + a / rate, p.started + (b + 1) / rate))
    return spans


def covered(span, intervals, slack=0.002) -> bool:
    return any(a - slack <= span[0] and span[1] <= b + slack for a, b in intervals)


def test_sound_intervals_are_the_speech_and_chimes_on_the_anchor_and_not_the_holds(session):
    player, clock, _, _ = make(session)
    rate = session.sample_rate
    player.go(0, 200.0)
    total = session.timeline.total
    intervals = player.sound_intervals(0, total)
    sounds = [e for e in session.timeline.events if e.kind in (SPEECH, CHIME) and e.length]
    assert intervals == [(200.0 + e.start / rate, 200.0 + e.end / rate) for e in sounds]
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    inside = [(a, b) for a, b in intervals if a < 200.0 + hold.end / rate and b > 200.0 + hold.start / rate]
    assert all(b - a < 1.0 for a, b in inside)  # only the counting words: the silence is not muted
    # clipped at the bounds asked for, e.g. from the middle of the first cue
    first = sounds[0]
    middle = (first.start + first.end) // 2
    assert player.sound_intervals(middle, first.end) == [(player.due(middle), player.due(first.end))]
    assert player.sound_intervals(first.end, first.end + 1) == []


def test_every_sound_of_a_session_is_announced_before_it_is_heard(session):
    player, clock, device, spoken = make(session)
    assert player.run(0, clock.now) == "finished"
    heard = sounding(device, session.sample_rate)
    muted = spoken.muted()
    assert len(heard) > 10 and all(covered(span, muted) for span in heard)
    for now, intervals in spoken.calls:  # announced as each segment starts, never late
        assert all(a >= now - 0.003 for a, _ in intervals)
    # and only the sounds: the muted time is the sound's time, not the whole session
    assert sum(b - a for a, b in muted) == pytest.approx(sum(b - a for a, b in heard), abs=0.05)


def test_a_pause_unmutes_at_once_and_the_count_in_is_muted(session):
    player, clock, device, spoken = make(session, [(1.0, Command.PAUSE), (4.0, Command.CONTINUE)])
    start = clock.now
    assert player.run(0, start) == "finished"
    paused = [(now, iv) for now, iv in spoken.calls if iv == [] and now >= start + 1.0]
    assert paused and paused[0][0] == pytest.approx(start + 1.0, abs=0.01)
    count_in = next(p for p in device.played if len(p.samples) == len(session.speech.audio(COUNT_IN)))
    assert count_in.started == pytest.approx(start + 4.0, abs=0.01)
    assert covered((count_in.started, count_in.ends), spoken.muted())
    heard = sounding(device, session.sample_rate)
    assert all(covered(span, spoken.muted()) for span in heard)
    # nothing is muted while paused: a word said then is heard
    assert not any(a < start + 3.9 and b > start + 1.1 for a, b in spoken.muted())


def test_continue_while_playing_is_ignored(session):
    player, clock, device, _ = make(session, [(1.0, Command.CONTINUE)])
    plain, plain_clock, plain_device, _ = make(session)
    assert player.run(0, clock.now) == plain.run(0, plain_clock.now) == "finished"
    assert [p.stopped_at for p in device.played] == [None] * len(device.played)
    assert [len(p.samples) for p in device.played] == [len(p.samples) for p in plain_device.played]


@pytest.mark.parametrize("resume", [Command.PAUSE, Command.CONTINUE])
def test_pause_or_continue_while_paused_resumes_with_the_count_in(session, resume):
    player, clock, device, _ = make(session, [(1.0, Command.PAUSE), (3.0, "felt-better"), (4.0, resume)])
    start = clock.now
    assert player.run(0, start) == "finished"
    count_in = [p for p in device.played if len(p.samples) == len(session.speech.audio(COUNT_IN))]
    assert len(count_in) == 1  # the check-in answer did not resume it
    assert count_in[0].started == pytest.approx(start + 4.0, abs=0.01)


def test_the_controls_are_told_what_plays(session):
    bend = session.timeline.chapters[2].start / session.sample_rate
    player, clock, _, _ = make(session, [(bend + 0.5, Command.PAUSE), (bend + 2.0, Command.PAUSE),
                                         (bend + 4.0, Command.NEXT)])
    assert player.run(0, clock.now) == "finished"
    updates = player.keys.updates
    changes = [u for i, u in enumerate(updates) if i == 0 or u[:3] != updates[i - 1][:3]]
    chapters = session.timeline.chapters
    length = round((session.timeline.chapter_end(2) - chapters[2].start) / session.sample_rate, 3)
    assert [u[0] for u in changes] == ["Playing", "Playing", "Playing", "Paused", "Playing", "Playing",
                                       "Playing"]
    assert [u[2] for u in changes] == ["Introduction", "Reach", "Bend", "Bend", "Bend", "Twist", "Finish"]
    assert all(u[1] == "Player test" for u in updates)  # the routine, shown as the album
    assert changes[3] == ("Paused", "Player test", "Bend", length, 3)


def test_the_intro_names_the_controls_alone_and_in_the_full_session(session):
    routine = parse_routine(ROUTINE)
    said = with_intro_sentences(routine, ("listening", "media_buttons"))
    assert said.intro == ("Hello there. Say pause, next, or stop at any time. "
                          "Media keys and headset buttons pause and skip.")
    preparing = Preparing(said, FakeSynthesizer(), background=False)
    full = preparing.session()  # raises if the intro were planned differently alone
    intro = [e.text for e in full.timeline.events if e.chapter == 0]  # one cue per sentence
    assert intro == ["Hello there.", "Say pause, next, or stop at any time.",
                     "Media keys and headset buttons pause and skip."]
    assert session.timeline.events[0].text == "Hello there."  # an export says no such thing
    assert with_intro_sentences(routine, ()) is routine
    default = with_intro_sentences(parse_routine(ROUTINE.replace("intro: Hello there.\n", "")), ("listening",))
    assert default.intro.startswith("Welcome.") and default.intro.endswith("at any time.")


def test_voice_control_that_cannot_start_is_a_warning_and_the_session_plays_on(monkeypatch, capsys):
    import io

    from voicecoach.errors import RuntimeFailure
    from voicecoach.live import play
    from voicecoach.live.controls import spoken

    def refuse(self):
        raise RuntimeFailure("spoken commands need pocketsphinx; install pocketsphinx with: pip install pocketsphinx")
    monkeypatch.setattr(spoken.Spoken, "start_in_background", refuse)
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    with play._controls(play.Parts(stdin=io.StringIO()), listen=True) as wired:
        assert (wired.spoken, wired.sentences, wired.help) == (None, ("listening_off",), "")
        assert wired.controls.wait(0) is None
    assert capsys.readouterr().err.splitlines() == [
        "Warning: voice control is off: spoken commands need pocketsphinx; install pocketsphinx with: "
        "pip install pocketsphinx. The keys and media buttons still work.",
        "Media buttons: no D-Bus session bus, so they are off."]
    assert load_phrases_en("listening_off") == "Voice control could not start; use the keys or buttons."


def load_phrases_en(key: str) -> str:
    from voicecoach.plan.phrases import load_phrases
    return load_phrases("en").say(key)


def test_a_spoken_command_is_acknowledged_by_a_tick_in_the_silence_and_on_the_screen(session):
    from voicecoach.live.player import AFTER_SKIP_S, TICK_LENGTH_S
    bend = session.timeline.chapters[2].start / session.sample_rate
    player, clock, device, spoken = make(session, [(bend + 1.0, Command.NEXT), (bend + 6.0, Command.PAUSE),
                                                   (bend + 8.0, Command.PAUSE)])
    spoken.words = ["next", "pause", "pause"]
    start = clock.now
    assert player.run(0, start) == "finished"
    rate = session.sample_rate
    ticks = [p for p in device.played if len(p.samples) == round(TICK_LENGTH_S * rate)]
    assert [round(t.started - start - bend, 2) for t in ticks] == [1.0, 6.0]  # the skip, the pause: not the resume
    assert player.screen.notes == ["heard next", "heard pause", "heard pause"]
    for tick in ticks:
        assert covered((tick.started, tick.ends), spoken.muted())  # never heard by the listener
        over = [p for p in device.played if p is not tick and p.started < tick.ends
                and (p.stopped_at or p.ends) > tick.started]
        assert over == [], "nothing else sounds during the tick"
    after_skip = min(p.started for p in device.played if p.started > ticks[0].started)
    assert after_skip - ticks[0].started == pytest.approx(AFTER_SKIP_S, abs=0.01)  # the next cue after it


def test_keys_are_not_acknowledged(session):
    bend = session.timeline.chapters[2].start / session.sample_rate
    player, clock, device, spoken = make(session, [(bend + 1.0, Command.NEXT)])
    assert player.run(0, clock.now) == "finished"
    assert player.screen.notes == []
    from voicecoach.live.player import TICK_LENGTH_S
    assert not [p for p in device.played if len(p.samples) == round(TICK_LENGTH_S * session.sample_rate)]
