"""Stopping for pain: ``h`` stops a live session at once (like ``q``), the coach says the
phrase pack's caring line, and the history records the session as stopped for pain, so
the next session's level steps back (``plan.progression``).

Fake clock, keys and device from fakes.py; the history is a real SQLite file in the
test's own data folder, read back through ``voicecoach history --json``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.live.commands import Command, Outcome
from voicecoach.live.controls.keys import BINDINGS, HELP, Keys
from voicecoach.live.play import Parts, play_routine
from voicecoach.session.request import SessionRequest
from voicecoach.live.player import Player
from voicecoach.plan.phrases import load_phrases
from voicecoach.history import journal
from voicecoach.routine import load_routine, parse_routine
from voicecoach.session.prepare import prepare

from fakes import ROUTINE, FakeClock, FakeDevice, FakeKeys, FakeScreen, FakeSynthesizer
from support import requires_espeak

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))

PAIN_LINE = "Stopping here. Rest, and if the pain stays, ask a doctor or physiotherapist."


def test_h_is_the_pain_key_and_is_named_on_screen():
    assert BINDINGS["h"] == Command.PAIN == "pain"
    assert HELP.endswith(" · q stop · h it hurts")
    assert load_phrases("en").say("pain_stop") == PAIN_LINE
    assert load_phrases("de").say("pain_stop").startswith("Wir hören hier auf. Ruh dich aus,")


def test_the_terminal_gives_h_as_the_pain_command():
    main, side = os.openpty()
    with os.fdopen(side, "r") as stream, Keys(stream) as keys:
        os.write(main, b"H")
        assert keys.wait(1.0) == Command.PAIN
    os.close(main)


def _player(presses):
    synth = FakeSynthesizer()
    session = prepare(parse_routine(ROUTINE), synthesizer=synth)
    clock = FakeClock()
    device = FakeDevice(clock)
    return Player(session, device, FakeKeys(clock, presses), FakeScreen(), None, clock), session, device


def test_the_player_stops_for_pain_as_for_q_and_says_which():
    player, session, device = _player([(5.0, Command.PAIN)])
    assert player.run(0, player.clock.now) == Outcome.STOPPED
    assert player.stopped_by == Command.PAIN
    assert all(p.stopped_at is not None or p.ends <= player.clock.now for p in device.played)
    paused, _, _ = _player([(2.0, Command.PAUSE), (3.0, Command.PAIN)])
    assert paused.run(0, paused.clock.now) == Outcome.STOPPED and paused.stopped_by == Command.PAIN
    quit_, _, _ = _player([(2.0, Command.QUIT)])
    assert quit_.run(0, quit_.clock.now) == Outcome.STOPPED and quit_.stopped_by == Command.QUIT


def _play(routine: str, presses, stdout=None):
    clock, synth, screen = FakeClock(), FakeSynthesizer(), FakeScreen()
    device = FakeDevice(clock)
    code = play_routine(SessionRequest(routine), lead_in_s=0, parts=Parts(
        synthesizer=synth, device=device, stdout=stdout or io.StringIO(), clock=clock,
        controls=FakeKeys(clock, presses), screen=screen, background=False))
    return code, synth, device, screen, clock


def _history() -> list[dict]:
    result = CliRunner().invoke(cli, ["history", "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_h_stops_says_the_caring_line_and_records_a_pain_stop(tmp_path):
    routine = tmp_path / "routine.yaml"
    routine.write_text(ROUTINE)
    session = prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())
    bend = session.timeline.chapters[2].start / session.sample_rate + 1.0
    out = io.StringIO()
    code, synth, device, screen, clock = _play(str(routine), [(bend, Command.PAIN)], out)
    assert code == 0
    assert synth.calls[-1] == PAIN_LINE and screen.notes[-1] == PAIN_LINE
    line = session.speech.audio(PAIN_LINE)
    spoken = device.played[-1]
    assert np.array_equal(spoken.samples, line.samples)
    assert all(p.stopped_at is not None for p in device.played[1:-1] if p.ends > spoken.started)
    assert clock.now >= spoken.ends  # the line was let finish before the session closed
    assert out.getvalue().splitlines()[-1] == (f"Stopped for pain at Bend. To continue another time: "
                                               f"voicecoach play {routine} --resume")
    [recorded] = _history()
    assert (recorded["outcome"], recorded["stop_reason"], recorded["stopped_at"], recorded["felt"]) == \
        ("stopped", "pain", "Bend", "unknown")
    assert recorded["source"] == "live"


def test_q_during_the_caring_line_cuts_it_short_and_it_is_still_a_pain_stop(tmp_path):
    routine = tmp_path / "routine.yaml"
    routine.write_text(ROUTINE)
    code, _, device, _, _ = _play(str(routine), [(3.0, Command.PAIN), (3.5, Command.QUIT)])
    assert code == 0
    assert device.played[-1].stopped_at is not None and device.played[-1].stopped_at < device.played[-1].ends
    assert _history()[0]["stop_reason"] == "pain"


def test_after_a_pain_stop_the_next_session_steps_back(tmp_path):
    routine = tmp_path / "build.yaml"
    routine.write_text("title: Build\nintro: Hi.\noutro: Bye.\nexercises:\n"
                       "  - name: Reach\n    cue: Reach up.\n    reps: {start: 2, max: 6}\n")
    runner = CliRunner()
    for day in ("2026-11-01", "2026-11-02"):
        assert runner.invoke(cli, ["log", str(routine), "--felt", "better", "--when", f"{day}T18:00"]).exit_code == 0
    assert _level_lines(routine) == ["Reach: 3 reps: up from 2 after 2 good sessions"]
    _play(str(routine), [(1.5, Command.PAIN)])
    assert [(s["stop_reason"], s["levels"]) for s in _history()] == \
        [(None, {"Reach": 2}), (None, {"Reach": 2}), ("pain", {"Reach": 3})]
    assert _level_lines(routine) == ["Reach: 2 reps: down from 3: last session stopped for pain"]


def _level_lines(routine) -> list[str]:
    """What ``plan`` says about the levels (``plan`` itself would synthesize every cue)."""
    _, levels = journal.todays_routine(str(routine), load_routine(str(routine)))
    return journal.level_lines(levels)


# -- a real session: espeak-ng, a private PulseAudio server, a terminal ---------------------

LIVE_ROUTINE = """
title: Pain test
intro: Hello.
outro: Done.
exercises:
  - name: Reach
    cue: Reach up.
    hold: 20s
"""


@requires_espeak
@pytest.mark.real
@pytest.mark.audio
@pytest.mark.skipif(shutil.which("pulseaudio") is None and not os.environ.get("CI"),
                    reason="PulseAudio is not installed (CI installs it)")
def test_a_real_session_stopped_with_h_says_the_line_and_is_recorded(tmp_path, pulse, recorded_session):
    pexpect = pytest.importorskip("pexpect")
    from pulse_server import bursts

    routine = tmp_path / "pain.yaml"
    routine.write_text(LIVE_ROUTINE)
    with recorded_session(routine) as (child, env, recording):
        child.expect("h it hurts")
        child.expect("Hold")  # in the 20 s hold: silence, until the count at its halfway
        child.expect(pexpect.TIMEOUT, timeout=2.0)  # then a silence of more than 1 s
        child.send("h")
        child.expect(pexpect.EOF)
        child.close()
    rate = pulse.sample_rate
    heard = bursts(recording.samples(), round(1.0 * rate), threshold=100)
    assert child.exitstatus == 0, child.before
    assert f"Stopped for pain at Reach. To continue another time: voicecoach play {routine} --resume" \
        in child.before
    listed = json.loads(subprocess.run([sys.executable, "-m", "voicecoach", "history", "--json"],
                                       env=env, capture_output=True, text=True, check=True).stdout)
    assert [(s["outcome"], s["stop_reason"], s["stopped_at"]) for s in listed] == [("stopped", "pain", "Reach")]
    # The last sound heard, after the silence of the hold, is the whole caring line: as long
    # as the voice says it (measured by ``plan`` in a process of its own, like the session).
    said = tmp_path / "line.yaml"
    said.write_text(f"title: Line\nexercises:\n  - name: Rest\n    cue: {PAIN_LINE}\n")  # (an intro is cut into sentences)
    planned = json.loads(subprocess.run([sys.executable, "-m", "voicecoach", "plan", str(said), "--json",
                                         "--engine", "espeak"], env=env, capture_output=True, text=True,
                                        check=True).stdout)
    (line_s,) = [e["duration_s"] for e in planned["events"] if e.get("text") == PAIN_LINE]
    start, end = heard[-1]
    assert len(heard) == 2  # the intro and the cue (less than 1 s apart), then the line
    assert abs((end - start) / rate - line_s) < 0.05, ((end - start) / rate, line_s)


def test_the_stop_reasons_are_the_history_s_own_strings():
    from voicecoach.history.store import STOP_REASONS
    from voicecoach.live.commands import StopReason
    assert sorted(reason.value for reason in StopReason) == sorted(STOP_REASONS)
