"""What the screen shows around a pause, and a long text on an 80-column terminal: the
player on the fake clock, and ``frame`` (pure)."""

from __future__ import annotations

import pytest

from fakes import FakeSynthesizer
from fakes import COUNT_IN, ROUTINE, FakeClock, FakeDevice, FakeKeys
from voicecoach.live.commands import Command
from voicecoach.live.player import Player
from voicecoach.live.playplan import Guide
from voicecoach.live.screen import frame, text_rows
from voicecoach.routine import parse_routine
from voicecoach.session.prepare import prepare


class SlowSynthesizer(FakeSynthesizer):
    """Takes a second of the fake clock to say anything (Piper's count-in, first time)."""

    def __init__(self, clock):
        super().__init__()
        self.clock = clock

    def synthesize(self, text):
        self.clock.now += 1.0
        return super().synthesize(text)


class TimedScreen:
    def __init__(self, clock):
        self.clock, self.shown = clock, []

    def show(self, status, paused=False):
        self.shown.append((self.clock.now, "Paused" if paused else status.step))

    def note(self, text):
        pass

    def close(self):
        pass


def test_the_second_space_shows_get_ready_at_once_and_the_count_in_follows_it():
    clock = FakeClock()
    synth = SlowSynthesizer(clock)
    session = prepare(parse_routine(ROUTINE), synthesizer=synth)
    screen = TimedScreen(clock)
    keys = FakeKeys(clock, [(1.0, Command.PAUSE), (4.0, Command.PAUSE)])
    player = Player(session, FakeDevice(clock), keys, screen, None, clock)
    assert player.run(0, clock.now) == "finished"
    resumed = keys.start + 4.0
    after = [(at, shown) for at, shown in screen.shown if at >= resumed]
    assert after[0][1] == "ready" and after[0][0] - resumed < 0.01  # not "Paused" a moment longer
    assert [shown for _, shown in screen.shown if resumed <= _ < resumed + 1.0].count("Paused") == 0
    count_in = next(p for p in player.device.played if len(p.samples) == len(session.speech.audio(COUNT_IN)))
    assert count_in.started - resumed < 0.01  # made while paused: said as soon as asked for
    paused_at = keys.start + 1.0
    assert next(at for at, shown in screen.shown if shown == "Paused") - paused_at < 0.01  # shown first


@pytest.mark.parametrize("width", [80, 100])
def test_a_long_intro_sentence_is_whole_on_an_80_column_screen(width):
    # the intro is said a sentence at a time: one sentence longer than four rows of text
    sentence = "Lie on your back with your knees bent, " * 8 + "and breathe slowly."
    routine = parse_routine(f"title: Long\nintro: {sentence}\nexercises:\n  - name: Reach\n")
    session = prepare(routine, synthesizer=FakeSynthesizer())
    status = Guide(session.timeline).status(0)
    assert status.chapter == "Introduction" and len(status.text) > 4 * 72  # more than four rows
    lines = frame(session.timeline.title, status, width, controls="space pause · say pause, next or stop")
    assert len(lines) <= 24
    shown = " ".join(text.strip() for style, text in lines[6:-4] if text.strip())
    assert shown == " ".join(status.text.split())
    assert all(len(text) <= width for _, text in lines)


def test_a_text_too_long_for_the_screen_ends_in_an_ellipsis():
    rows = text_rows("word " * 200, 40, 5)
    assert len(rows) == 5 and rows[-1].endswith(" …") and all(len(r) <= 40 for r in rows)
    assert text_rows("short text", 40, 5) == ["short text"]


def test_the_terminal_shows_the_word_heard_for_a_moment_in_place_of_the_controls():
    import io
    from voicecoach.live.screen import HEARD_S, TerminalScreen
    now = [10.0]
    out = io.StringIO()
    screen = TerminalScreen("Back", "space pause · say pause, next or stop", out, clock=lambda: now[0])
    session = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())
    status = Guide(session.timeline).status(0)
    screen.heard("next")
    screen.show(status)
    screen._frames.close()
    assert 'Heard "next".' in out.getvalue() and "say pause, next or stop" not in out.getvalue()
    out.seek(0), out.truncate()
    now[0] += HEARD_S + 0.1
    screen._frames = type(screen._frames)(out)
    screen.show(status)
    screen._frames.close()
    assert "say pause, next or stop" in out.getvalue() and "Heard" not in out.getvalue()


def test_without_a_terminal_the_word_heard_is_a_line():
    import io
    from voicecoach.live.screen import LineScreen
    out = io.StringIO()
    LineScreen("Back", out).heard("pause")
    assert out.getvalue() == 'Heard "pause".\n'
