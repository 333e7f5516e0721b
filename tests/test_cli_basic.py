"""``check``, ``routines`` and ``plan`` through click's CliRunner, with the fake voice:
output, the JSON shape, exit codes and the exact ``Error:`` line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from voicecoach.session import prepare as session
from voicecoach.cli import cli
from voicecoach.routine import vocabulary

from fakes import FakeSynthesizer

DATA = Path(__file__).parent / "data"


@pytest.fixture
def fake_voice(monkeypatch):
    """Every command gets the fake synthesizer at the rate asked for; returns the rates used."""
    rates = []

    def make(engine="espeak", *, voice=None, rate=None):
        from voicecoach.speech.engines import check_rate
        rates.append(check_rate(rate))
        return FakeSynthesizer(rate=rates[-1])

    monkeypatch.setattr(session, "make_synthesizer", make)
    return rates


def runner() -> CliRunner:
    """Separate stdout and stderr: click 8.2 always does, 8.1 needs to be asked."""
    try:
        return CliRunner(mix_stderr=False)
    except TypeError:
        return CliRunner()


def run(*args):
    return runner().invoke(cli, [str(a) for a in args])


def test_check_a_good_file_and_a_builtin():
    result = run("check", DATA / "every-key.yaml")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == f"{DATA / 'every-key.yaml'}: OK, 'Every key' with 3 exercises\n"
    assert run("check", "back-pain").stdout == "back-pain: OK, 'Gentle back routine' with 5 exercises\n"


def test_check_a_bad_file_gives_one_error_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nexercises:\n  - name: Tilt\n    cue: Tilt.\n    hlod: 5s\n")
    result = run("check", bad)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"Error: exercises[0].hlod: unknown key; did you mean 'hold'? ({bad} line 5)\n"


def test_check_a_near_miss_of_a_builtin():
    result = run("check", "back-pan")
    assert result.exit_code == 2
    assert result.stderr == "Error: no such file or built-in routine; did you mean 'back-pain'? (back-pan)\n"


def test_routines_lists_the_builtins():
    result = run("routines")
    assert result.exit_code == 0
    assert result.stdout == ("back-pain: Gentle back routine (Pelvic tilt, Cat-cow, Knee rolls, "
                             "Single leg hug, Double leg hug)\n")


def test_plan_table(fake_voice):
    result = run("plan", DATA / "minimal.yaml")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "Minimal"
    assert [line.split()[2:4] for line in lines[2:5]] == [["speech", "-"]] * 3  # the intro: a cue per sentence
    assert lines[5].split()[2:] == ["speech", "Breathe", "Next", "exercise:", "Breathe.", "1", "repetition."]
    assert lines[-1].startswith("Total: ") and lines[-1].endswith(" s), 1 exercise")
    assert fake_voice == [140]


def test_plan_json_shape(fake_voice):
    result = run("plan", DATA / "every-key.yaml", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "Every key" and data["sample_rate"] == FakeSynthesizer.sample_rate
    assert [c["title"] for c in data["chapters"]] == ["Introduction", "Pelvic tilt", "Knee rolls", "Still", "Finish"]
    for event in data["events"]:
        extra = {"speech": {"text"}, "chime": {"sound"}}.get(event["kind"], set())
        assert set(event) == {"start_s", "duration_s", "kind", "exercise"} | extra
        assert event["duration_s"] >= 0
    assert data["events"][0] == {"start_s": 0.0, "duration_s": data["events"][0]["duration_s"],
                                 "kind": "speech", "text": "Lie on your back.",  # the intro: a cue per sentence
                                 "exercise": None}
    last = data["events"][-1]
    assert last["sound"] == "end" and data["total_s"] == pytest.approx(last["start_s"] + last["duration_s"], abs=1e-5)
    holds = [e["duration_s"] for e in data["events"] if e["kind"] == "hold"]
    assert holds == [2.0, 1.5] * 6 + [25.0] * 4 + [60.0]
    rests = [e["duration_s"] for e in data["events"] if e["kind"] == "rest"]
    assert rests == [20.0, 90.0, 90.0]


def test_plan_rate_changes_speech_only(fake_voice):
    slow = json.loads(run("plan", DATA / "every-key.yaml", "--json", "--rate", "100").stdout)
    fast = json.loads(run("plan", DATA / "every-key.yaml", "--json", "--rate", "200").stdout)
    assert fake_voice == [100, 200]
    main = [(e["kind"], e.get("text")) for e in slow["events"]]
    assert [e["duration_s"] for e in slow["events"] if e["kind"] in ("hold", "rest")] == \
           [e["duration_s"] for e in fast["events"] if e["kind"] in ("hold", "rest")]
    assert slow["total_s"] > fast["total_s"]
    assert main[:3] == [(e["kind"], e.get("text")) for e in fast["events"]][:3]


def test_plan_of_a_bad_routine_is_exit_2_before_any_speech(fake_voice, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nexercises: []\n")
    result = run("plan", bad, "--json")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == f"Error: exercises: must list at least one exercise ({bad} line 2)\n"
    assert fake_voice == []


def test_plan_with_a_rate_out_of_range_is_exit_2(fake_voice):
    result = run("plan", "back-pain", "--rate", "500")
    assert result.exit_code == 2
    assert result.stderr == "Error: --rate: must be a whole number of words per minute from 80 to 300, got 500\n"


def test_a_runtime_failure_is_exit_1(monkeypatch):
    monkeypatch.setattr(session, "make_synthesizer", lambda *a, **k: FakeSynthesizer(fail_on="Welcome"))
    result = run("plan", "back-pain")
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("Error: fake engine failed on 'Welcome to your gentle back routine.")
    assert result.stderr.count("\n") == 1


def test_plan_of_the_builtin_with_the_fake_voice(fake_voice):
    data = json.loads(run("plan", "back-pain", "--json").stdout)
    kinds = {e["kind"] for e in data["events"]}
    assert kinds == {"speech", "chime", "hold", "rest"}
    assert [c["title"] for c in data["chapters"]][1:-1] == ["Pelvic tilt", "Cat-cow", "Knee rolls",
                                                           "Single leg hug", "Double leg hug"]


BAD_EVERYWHERE = """\
rest: soon
exercises:
  - name: Tilt
    sides: left
    cue: Tilt to the {side}.
    hold: -3
    reps: 0
  - name: Roll
    wobble: 1
    cue: Roll.
  - name: Hug
    steps:
      - say: Hug.
        hold: 2s
        count: maybe
      - say: ""
        release: And relax.
titel: Broken
"""


def test_check_lists_every_error_in_line_order(tmp_path):
    """Each field is checked on its own; the title, checked first, is on the last line; a
    mapping with a wrong key says no more (titel is not also "title missing"), and wrong
    sides do not make {side} an error too."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD_EVERYWHERE)
    result = run("check", bad)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [f"Error: {line} ({bad} line {n})" for line, n in [
        ("rest: must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text 'soon'", 1),
        ("exercises[0].sides: must be a list such as [left, right], got the text 'left'", 4),
        ("exercises[0].hold: must be a positive duration like 2s or 1m30s, got -3", 6),
        ("exercises[0].reps: must be a whole number from 1 to 100, got 0", 7),
        ("exercises[1].wobble: unknown key; allowed keys: " + ", ".join(vocabulary.EXERCISE_KEYS), 9),
        ("exercises[2].steps[0].count: must be true or false, got the text 'maybe'", 15),
        ("exercises[2].steps[1].say: must not be empty", 16),
        ("titel: unknown key; did you mean 'title'?", 18),
    ]]


def test_check_lists_at_most_20_errors(tmp_path):
    bad = tmp_path / "many.yaml"
    bad.write_text("title: Many\nexercises:\n" + "".join(f"  - name: E{i}\n    cue: Go.\n    reps: 0\n"
                                                         for i in range(25)))
    lines = run("check", bad).stderr.splitlines()
    assert len(lines) == 21 and lines[-1] == "... and 5 more"
    assert lines[0] == f"Error: exercises[0].reps: must be a whole number from 1 to 100, got 0 ({bad} line 5)"
    assert lines[19].startswith("Error: exercises[19].reps: ")


@pytest.mark.parametrize("command", ["plan", "export", "play"])
def test_other_commands_give_the_first_error_and_how_many_more(tmp_path, command):
    bad = tmp_path / "my bad.yaml"
    bad.write_text(BAD_EVERYWHERE)
    result = run(command, bad)
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == (f"Error: rest: must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text "
                             f"'soon' ({bad} line 1); and 7 more errors, listed by: voicecoach check '{bad}'\n")


def test_one_error_is_one_line_without_a_count(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("title: x\nexercises:\n  - name: Tilt\n    cue: Tilt.\n    reps: 0\n")
    assert run("plan", bad).stderr == (f"Error: exercises[0].reps: must be a whole number from 1 to 100, "
                                       f"got 0 ({bad} line 5)\n")


def test_check_counts_one_exercise_in_the_singular(tmp_path):
    one = tmp_path / "one.yaml"
    one.write_text("title: One\nexercises:\n  - name: Tilt\n    cue: Tilt.\n")
    assert run("check", one).stdout == f"{one}: OK, 'One' with 1 exercise\n"


# -- one way in: every session command resolves one request --------------------------------

@pytest.fixture
def resolved(monkeypatch, fake_voice):
    """The requests ``resolve`` was given, by any front end (it still resolves them)."""
    from voicecoach.live import play as play_module
    from voicecoach.session import request as request_module
    asked, real = [], request_module.resolve

    def spy(request, **options):
        asked.append(request)
        return real(request, **options)
    for module in (request_module, play_module):  # the CLI's commands, and the live session's
        monkeypatch.setattr(module, "resolve", spy)
    return asked


def test_plan_export_and_play_make_one_request_of_their_options(resolved, tmp_path, monkeypatch):
    from voicecoach.live import play as play_module
    from voicecoach.session.request import SessionRequest
    monkeypatch.setattr(play_module, "_open_device", _NoDevice)
    options = ["--rate", "120", "--language", "de", "--level", "4", "--voice", "v1"]
    assert run("plan", "back-pain", *options).exit_code == 0
    assert run("export", "back-pain", "-o", tmp_path / "s.wav", *options).exit_code == 0
    played = run("play", "back-pain", *options, "--lead-in", "0")
    assert played.exit_code == 1 and "export the session: voicecoach export back-pain -o session.mp3 " \
        "--engine espeak --voice v1 --rate 120 --language de" in played.stderr
    assert resolved == [SessionRequest("back-pain", engine="espeak", voice="v1", rate=120, language="de",
                                       level=4)] * 3  # the tests' settings say engine: espeak


class _NoDevice:
    def play(self, samples, rate):
        from voicecoach.errors import AudioDeviceError
        raise AudioDeviceError("ALSA: no device")


def test_plan_and_export_show_the_same_levels(fake_voice, tmp_path):
    planned = json.loads(run("plan", "back-pain", "--level", "5", "--json").stdout)
    run("export", "back-pain", "-o", tmp_path / "s.wav", "--level", "5", "--timeline", tmp_path / "s.json")
    exported = json.loads((tmp_path / "s.json").read_text())
    assert planned["levels"] == exported["levels"] == {
        name: {"reps": 5, "reason": "--level 5"}
        for name in ("Pelvic tilt", "Cat-cow", "Knee rolls", "Single leg hug", "Double leg hug")}
    assert planned["events"] == exported["events"]


def test_an_export_checks_its_destination_and_holds_the_signals_once(fake_voice, tmp_path, monkeypatch):
    import contextlib
    from voicecoach import cli as cli_module, signals
    from voicecoach.export import destination, exporter
    calls = []
    check, hold = destination.check_destination, signals.stop_signals

    def counted_check(*args):
        calls.append("check")
        return check(*args)

    @contextlib.contextmanager
    def counted_hold():
        calls.append("hold")
        with hold():
            yield
    for module in (destination, exporter):  # wherever it is looked up
        monkeypatch.setattr(module, "check_destination", counted_check)
    for module in (signals, exporter, cli_module):
        monkeypatch.setattr(module, "stop_signals", counted_hold)
    result = run("export", "back-pain", "-o", tmp_path / "s.wav", "--transcript", tmp_path / "s.srt")
    assert result.exit_code == 0, result.stderr
    assert calls == ["check", "hold"]


def test_a_bad_destination_is_refused_before_any_voice_is_made(fake_voice, tmp_path):
    result = run("export", "back-pain", "-o", tmp_path / "nowhere" / "s.wav")
    assert result.exit_code == 2 and result.stderr.startswith("Error: -o: ")
    assert fake_voice == []
