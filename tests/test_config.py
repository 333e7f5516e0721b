"""User settings: config.yaml over the shipped defaults, applied as click's default_map."""

import os

import pytest
from click.testing import CliRunner

from fakes import FakeSynthesizer
from voicecoach import config as config_module, defaults
from voicecoach.cli import cli
from voicecoach.config import DEFAULTS, load_settings
from voicecoach.errors import InputError, RoutineError, SettingsError
from voicecoach.live import play as play_module
from voicecoach.session import prepare as prepare_module
from voicecoach.session.request import SessionRequest
from voicecoach.speech import engines


@pytest.fixture(autouse=True)
def config_file(tmp_path, monkeypatch):
    """An empty config folder of this module's own (conftest pins the others to espeak)."""
    folder = tmp_path / "config"
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(folder))
    folder.mkdir(exist_ok=True)
    return folder / "config.yaml"


@pytest.fixture
def spy(monkeypatch):
    """What prepare() was asked for, with a fake voice."""
    asked = {}

    def make(engine, *, voice=None, rate=None):
        asked.update(engine=engine, voice=voice, rate=engines.check_rate(rate))
        return FakeSynthesizer(rate=asked["rate"])
    monkeypatch.setattr(prepare_module, "make_synthesizer", make)
    return asked


def test_the_code_defaults_are_the_shipped_file():
    assert (engines.DEFAULT_ENGINE, engines.DEFAULT_RATE, play_module.DEFAULT_LEAD_IN_S) == \
        (DEFAULTS["engine"], DEFAULTS["rate"], DEFAULTS["lead_in"])
    assert set(DEFAULTS) == set(config_module.OPTIONS)
    assert config_module.DEFAULTS is defaults.DEFAULTS
    assert tuple(engines._ADAPTERS) == defaults.ENGINES  # every engine the settings accept has one


def test_no_file_means_the_defaults(spy):
    result = CliRunner().invoke(cli, ["config"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0].endswith("config.yaml (not there: all defaults)")
    assert lines[1:] == ["  engine    auto         default", "  voice     null         default",
                         "  rate      140          default", "  lead_in   1.0          default",
                         "  language  null         default", "  format    mp3          default",
                         "  listen    false        default", "  schedule  null         default"]


def test_the_file_sets_the_options_defaults_and_an_option_wins(config_file, spy):
    config_file.write_text("rate: 130\nvoice: gmw/en-gb\n")
    assert CliRunner().invoke(cli, ["plan", "back-pain"]).exit_code == 0
    assert spy == {"engine": "espeak", "voice": "gmw/en-gb", "rate": 130}  # auto, for an espeak voice
    assert CliRunner().invoke(cli, ["plan", "back-pain", "--rate", "200"]).exit_code == 0
    assert spy["rate"] == 200
    shown = CliRunner().invoke(cli, ["config"]).output
    assert f"  rate      130          {config_file} line 1" in shown
    assert "  engine    auto         default" in shown


def test_the_format_setting_names_exports_without_o(config_file, spy, tmp_path, monkeypatch):
    config_file.write_text("format: wav\n")
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["export", "back-pain"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Wrote back-pain.wav (")
    assert result.stderr == ""  # the voice line is a terminal's status note, like the bar
    assert (tmp_path / "back-pain.wav").read_bytes()[:4] == b"RIFF"


@pytest.mark.parametrize("text, message", [
    ("rate: 30\n", "rate: must be a whole number of words per minute from 80 to 300, got '30' (FILE line 1)"),
    ("rate: 0150\n", "rate: write the number in plain decimal digits, got 0150 (FILE line 1)"),
    ("engine: festival\n", "engine: must be one of auto, espeak, piper, got 'festival' (FILE line 1)"),
    ("\nlanguage: fr\n", "language: must be one of de, en, or null, got 'fr' (FILE line 2)"),
    ("lead_in: [1]\n", "lead_in: must be a number of seconds from 0 to 10, got a list or mapping (FILE line 1)"),
    ("speed: 130\n", "speed: unknown key; allowed keys: engine, voice, rate, lead_in, language, format, listen, "
                      "schedule (FILE line 1)"),
    ("rat: 130\n", "rat: unknown key; did you mean 'rate'? (FILE line 1)"),
    ("rate: 130\nrate: 120\n", "rate: is given twice; keep one (FILE line 2)"),  # as in a routine
    ("? [a]\n: 1\n", "has a key that is not a name: a list (FILE line 1)"),
    ("? {a: 1}\n: 1\n", "has a key that is not a name: a mapping (FILE line 1)"),
    ("rate: " + "9" * 5000 + "\n", "rate: must be a whole number of words per minute from 80 to 300, got "
                                   "'" + "9" * 37 + "...' (FILE line 1)"),
    ("- rate\n", "must be a mapping of settings such as rate: 130; keys: engine, voice, rate, lead_in, "
                 "language, format, listen, schedule (FILE line 1)"),
    ("listen: yes please\n", "listen: must be true or false, got 'yes please' (FILE line 1)"),
    ("schedule: {per_week: 0}\n", "schedule.per_week: must be a whole number from 1 to 14, got 0 (FILE line 1)"),
    ("schedule: {per_week: 15}\n", "schedule.per_week: must be a whole number from 1 to 14, got 15 (FILE line 1)"),
    ("schedule: {per_week: 3, days: 2}\n", "schedule.days: unknown key; allowed keys: per_week (FILE line 1)"),
    ("schedule: 3\n", "schedule: must be a mapping such as {per_week: 3}, got the number 3 (FILE line 1)"),
    ("rate: &r 130\nlead_in: *r\n", "YAML aliases (*name) are not supported; write the value out in full (FILE line 2)"),
])
def test_a_bad_setting_is_one_line_for_every_command(config_file, text, message):
    config_file.write_text(text)
    for command in (["config"], ["plan", "back-pain"], ["routines"]):
        result = CliRunner().invoke(cli, command)
        assert (result.exit_code, result.output) == (2, "Error: " + message.replace("FILE", str(config_file)) + "\n")


def test_an_empty_file_changes_nothing(config_file):
    config_file.write_text("# nothing yet\n")
    assert {k: s.value for k, s in load_settings().items()} == DEFAULTS


def test_a_folder_in_place_of_the_file_is_one_line(config_file):
    config_file.mkdir()
    result = CliRunner().invoke(cli, ["config"])
    assert (result.exit_code, result.output) == (
        2, f"Error: is not a regular file; make it a YAML file of settings ({config_file})\n")


def test_the_config_folder_is_never_created(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(tmp_path / "nowhere"))
    CliRunner().invoke(cli, ["config"])
    assert not os.path.exists(tmp_path / "nowhere")


def test_the_listen_setting_is_the_play_flags_default(config_file, monkeypatch):
    asked = []
    monkeypatch.setattr(play_module, "play_routine", lambda request, **options: asked.append(options["listen"]) or 0)
    assert CliRunner().invoke(cli, ["play", "back-pain"]).exit_code == 0
    config_file.write_text("listen: true\n")
    assert CliRunner().invoke(cli, ["play", "back-pain"]).exit_code == 0
    assert CliRunner().invoke(cli, ["play", "back-pain", "--no-listen"]).exit_code == 0
    assert asked == [False, True, False]
    assert "  listen    true" in CliRunner().invoke(cli, ["config"]).output


@pytest.mark.parametrize("text", ["rate: 30\n", "rate: &r 130\nlead_in: *r\n", "speed: 1\n", "- rate\n"])
def test_a_bad_settings_file_is_a_settings_error(config_file, text):
    config_file.write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert isinstance(caught.value, InputError) and not isinstance(caught.value, RoutineError)
    assert caught.value.exit_code == 2 and str(caught.value).endswith(f"({config_file} line {text.count(chr(10))})")


def test_a_request_without_click_has_the_shipped_defaults_or_the_settings(config_file):
    assert SessionRequest("back-pain") == SessionRequest(
        "back-pain", DEFAULTS["engine"], DEFAULTS["voice"], DEFAULTS["rate"], DEFAULTS["language"], None)
    config_file.write_text("rate: 130\nlanguage: de\nlead_in: 3\n")  # lead_in: play's, not the request's
    assert SessionRequest.from_settings("back-pain") == SessionRequest("back-pain", rate=130, language="de")
    assert SessionRequest.from_settings("back-pain", rate=200, level="fresh") == \
        SessionRequest("back-pain", rate=200, language="de", level="fresh")


@pytest.mark.parametrize("given, level", [(None, None), ("fresh", "fresh"), ("3", 3), (3, 3)])
def test_a_request_takes_the_level_as_text_or_a_number(given, level):
    assert SessionRequest("back-pain", level=given).level == level


@pytest.mark.parametrize("given", ["lots", "0", 0, -2, True, 2.5])
def test_a_request_refuses_a_level_that_is_not_one(given):
    with pytest.raises(InputError, match=r"^--level: must be 'fresh' or a whole number of repetitions, got "):
        SessionRequest("back-pain", level=given)
