"""Levels in the routine format, the plan and live sessions; every session recorded.

Live sessions here use the fakes of test_player (a fake clock, device, keys and screen);
the real PulseAudio session with a check-in key is in test_play_live.
"""

from __future__ import annotations

import io
import json

import pytest
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.errors import RoutineError
from voicecoach.history import journal
from voicecoach.live.play import Parts, play_routine
from voicecoach.session.request import SessionRequest
from voicecoach.live.commands import Command
from voicecoach.plan.timeline import build_timeline
from voicecoach.routine import load_routine, parse_routine
from voicecoach.session.prepare import prepare

from fakes import FakeClock, FakeDevice, FakeKeys, FakeScreen, FakeSynthesizer

LEVELED = """
title: Build up
intro: Hello.
outro: Done.
exercises:
  - name: Reach
    cue: Reach up.
    reps: {start: 2, max: 5}
  - name: Knee rolls
    cue: Roll.
    sides: [right, left]
    reps: {start: 7, max: 15, per_set: 5}
    rest_between_sets: 2s
  - name: Still
    hold: 2s
    reps: 2
"""


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def routine(tmp_path) -> str:
    path = tmp_path / "build.yaml"
    path.write_text(LEVELED)
    return str(path)


def test_reps_may_build_up_and_split_into_sets():
    reach, rolls, still = parse_routine(LEVELED).exercises
    assert (reach.reps, reach.reps_range, reach.per_set) == (2, (2, 5), None)
    assert (rolls.reps, rolls.reps_range, rolls.per_set, rolls.set_sizes()) == (7, (7, 15), 5, (4, 3))
    assert (still.reps, still.reps_range, still.set_sizes()) == (2, None, (2,))


@pytest.mark.parametrize("reps, message", [
    ("{start: 5, max: 3}", "exercises[0].reps.max: must be at least start (5), got 3 (<routine> line 5)"),
    ("{start: 2}", "exercises[0].reps.max: is required but missing; add max: with the most reps to "
                   "build up to (<routine> line 5)"),
    ("{start: 2, max: 4, every: 2}", "exercises[0].reps.every: unknown key; allowed keys: start, "
                                     "max, per_set (<routine> line 5)"),
    ("{start: 0, max: 3}", "exercises[0].reps.start: must be a whole number from 1 to 100, got 0 "
                           "(<routine> line 5)"),
    ("{start: 2, max: 4, per_set: 2}\n    sets: 2", "exercises[0].sets: cannot be used with "
     "reps.per_set, which makes the sets from the reps; drop one of them (<routine> line 6)"),
])
def test_a_bad_range_names_its_field(reps, message):
    with pytest.raises(RoutineError) as caught:
        parse_routine(f"title: T\nexercises:\n  - name: K\n    cue: R.\n    reps: {reps}\n")
    assert str(caught.value) == message


def test_the_size_limit_counts_the_highest_level():
    many = "  - name: M\n    sides: [a, b, c, d]\n    reps: {start: 1, max: 100, per_set: 5}\n    cue: Go.\n"
    with pytest.raises(RoutineError, match=r"cues long; at most 20000"):
        parse_routine("title: x\nexercises:\n" + many * 51)  # 51 x 4 sides x 100 reps


def test_an_uneven_level_is_announced_and_played_set_by_set():
    routine = parse_routine(LEVELED)
    timeline = build_timeline(routine, lambda text: 100, lambda name: 10, 1000)
    rolls = [e.text for e in timeline.events if e.exercise == "Knee rolls" and e.text]
    assert rolls[0] == "Next exercise: Knee rolls. 7 repetitions on each side, in 2 sets (4, 3)."
    four = ["Roll.", "Roll.", "Two more. Roll.", "Last one. Roll."]
    assert rolls[1:] == (["Set 1 of 2.", "Starting on the right side."] + four
                         + ["Now the left side."] + four
                         + ["Rest for 2 seconds.", "One"]
                         + ["Set 2 of 2.", "Starting on the right side.", "Roll.", "Roll.", "Last one. Roll.",
                            "Now the left side.", "Roll.", "Roll.", "Last one. Roll."])


def _log(routine: str, *felt: str) -> None:
    for how in felt:
        journal.log_session(routine, how)


def test_plan_shows_each_level_and_why(routine):
    runner = CliRunner()
    first = runner.invoke(cli, ["plan", routine])
    assert first.exit_code == 0, first.output
    assert first.stdout.splitlines()[:2] == ["Reach: 2 reps: start level", "Knee rolls: 7 reps: start level"]
    _log(routine, "same", "better")
    after = runner.invoke(cli, ["plan", routine])
    assert after.stdout.splitlines()[:2] == ["Reach: 3 reps: up from 2 after 2 good sessions",
                                             "Knee rolls: 8 reps: up from 7 after 2 good sessions"]
    intro = [line for line in after.stdout.splitlines() if "  speech  -  " in line][:3]  # a cue per sentence
    assert [line.split("  -  ")[1].strip() for line in intro] == \
        ["Hello.", "One more reach than last time.", "One more knee roll than last time."]
    assert "Next exercise: Knee rolls. 2 sets of 4 repetitions on each side." in after.stdout
    fresh = json.loads(runner.invoke(cli, ["plan", routine, "--level", "fresh", "--json"]).stdout)
    assert fresh["levels"] == {"Reach": {"reps": 2, "reason": "start level (--level fresh)"},
                               "Knee rolls": {"reps": 7, "reason": "start level (--level fresh)"}}
    chosen = runner.invoke(cli, ["plan", routine, "--level", "12"])
    assert chosen.stdout.splitlines()[:2] == ["Reach: 5 reps: --level 12, within 2 to 5",
                                              "Knee rolls: 12 reps: --level 12"]


def test_a_bad_level_or_log_option_is_one_line_and_exit_2(routine):
    runner = CliRunner()
    for args, line in [
        (["plan", routine, "--level", "lots"], "Error: --level: must be 'fresh' or a whole number "
                                                "of repetitions, got 'lots'"),
        (["log", routine, "--pain", "11"], "Error: --pain: must be a whole number from 0 to 10, got 11"),
        (["log", routine, "--felt", "great"], "Error: --felt: must be one of better, same, worse, "
                                               "got 'great'"),
        (["log", routine, "--when", "soon"], "Error: --when: not an ISO-8601 time, got 'soon' "
                                              "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)"),
    ]:
        result = runner.invoke(cli, args)
        assert (result.exit_code, result.stderr.splitlines()) == (2, [line]), args
    assert json.loads(runner.invoke(cli, ["history", "--json"]).stdout) == []


def test_log_then_history_on_the_command_line(routine):
    runner = CliRunner()
    logged = runner.invoke(cli, ["log", routine, "--felt", "worse", "--pain", "4",
                                 "--when", "2026-11-28T18:00+00:00"])
    assert logged.exit_code == 0, logged.output
    assert logged.stdout.startswith("Logged ")
    assert logged.stdout.endswith("(felt worse): Reach 2, Knee rolls 7, Still 2\n")
    shown = runner.invoke(cli, ["history", routine])
    assert shown.exit_code == 0
    assert "  worse  4  " in shown.stdout  # felt, then the pain score
    assert "\nbuild: level and feeling" in shown.stdout  # the file's name, without its folder
    assert json.loads(runner.invoke(cli, ["history", "--json"]).stdout)[0]["pain"] == 4


def _session_end(routine: str) -> float:
    session = prepare(load_routine(routine), synthesizer=FakeSynthesizer())
    return session.timeline.total_s


def _play(routine, presses=(), stdout=None, **parts):
    clock = FakeClock()
    synth = FakeSynthesizer()
    screen = FakeScreen()
    status = play_routine(SessionRequest(routine), lead_in_s=0, parts=Parts(
        synthesizer=synth, device=FakeDevice(clock), stdout=stdout or io.StringIO(), clock=clock,
        controls=FakeKeys(clock, presses), screen=screen, background=False, **parts))
    return status, synth, screen


def _recorded() -> list[dict]:
    return json.loads(journal.show_history(as_json=True))


def test_a_completed_session_ends_with_the_check_in_and_is_recorded(routine):
    end = _session_end(routine)
    status, synth, screen = _play(routine, [(end + 1.5, "felt-better")], stdout=Terminal())
    assert status == 0
    assert synth.calls[-1].startswith("How does your back feel, compared with before the session?")
    assert screen.notes[-1].startswith("How does your back feel, compared with before?")
    [session] = _recorded()
    assert (session["outcome"], session["felt"], session["source"]) == ("completed", "better", "live")
    assert session["levels"] == {"Reach": 2, "Knee rolls": 7, "Still": 2}
    assert end < session["length_s"] < end + 12  # the session, then the check-in


def test_without_an_answer_the_feeling_is_unknown(routine):
    _play(routine, stdout=Terminal())
    assert _recorded()[0]["felt"] == "unknown"


def test_without_a_terminal_there_is_no_check_in(routine):
    _, synth, _ = _play(routine)
    assert not any(text.startswith("How does your back feel") for text in synth.calls)
    assert _recorded()[0]["felt"] == "unknown"


def test_a_session_stopped_with_q_is_recorded_with_where(routine):
    status, _, _ = _play(routine, [(8.0, Command.QUIT)])
    assert status == 0
    [session] = _recorded()
    assert (session["outcome"], session["stop_reason"], session["felt"]) == ("stopped", "quit", "unknown")
    assert session["stopped_at"] in ("Reach", "Knee rolls")


def test_played_levels_follow_the_history_and_the_intro_says_so(routine):
    _log(routine, "better", "same")
    _, synth, _ = _play(routine)
    assert synth.calls[:3] == ["Hello.", "One more reach than last time.", "One more knee roll than last time."]
    assert _recorded()[-1]["levels"] == {"Reach": 3, "Knee rolls": 8, "Still": 2}


def test_an_unwritable_data_dir_is_one_warning_and_the_session_plays(routine, tmp_path, monkeypatch,
                                                                       capfd):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "a-file" / "data"))
    out = io.StringIO()
    status, _, _ = _play(routine, stdout=out)
    assert status == 0
    assert out.getvalue().splitlines()[-1] == "Session complete: Build up."
    [warning] = capfd.readouterr().err.splitlines()  # one line: the levels are the starts
    assert warning.startswith("Warning: cannot use the data folder for the history: ")
    assert "; this session is not recorded (to add it later: voicecoach log " in warning
