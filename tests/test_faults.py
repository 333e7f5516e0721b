"""Faults found by probing: numbers YAML reads otherwise than they are written, a damaged or
unusable speech cache, user folders that cannot be made, a damaged saved place, sessions made
long by their speech, signals while speech is made, odd chimes, texts that say nothing, and
espeak-ng without its data. Each test reproduces the fault as it was found."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from voicecoach.audio import Audio
from voicecoach.errors import InputError, RoutineError, UserDirUnavailable
from voicecoach.history.places import FILE_NAME, Places
from voicecoach.live.play import Parts, play_routine
from voicecoach.session.request import SessionRequest
from voicecoach.paths import cache_dir, state_dir
from voicecoach.plan.phrases import load_phrases
from voicecoach.plan.timeline import build_timeline
from voicecoach.routine import load_routine, parse_routine
from voicecoach.speech import espeak_worker
from voicecoach.routine.vocabulary import MAX_SOUNDED_CHARS_PER_S, MAX_TEXT_CHARS
from voicecoach.session.prepare import check_length, prepare
from voicecoach.speech import cache as cache_module
from voicecoach.speech.cache import SpeechCache, scratch_folder

from fakes import ROUTINE, FakeClock, FakeDevice, FakeKeys, FakeSynthesizer
from support import requires_espeak

TEXT = "Lie on your back."


def error_of(text: str) -> str:
    with pytest.raises(RoutineError) as caught:
        parse_routine(text, name="r.yaml")
    return str(caught.value)


def one(field: str) -> str:
    return f"title: T\nexercises:\n  - name: Tilt\n    cue: Tilt your hips.\n    {field}\n"


# -- 1. numbers YAML 1.1 reads otherwise ------------------------------------------------

@pytest.mark.parametrize("field, message", [
    ("hold: 010", "exercises[0].hold: 010 has a leading zero (YAML reads it as the octal number 8); "
                  "write 10, not 010 (r.yaml line 5)"),
    ("reps: 010", "exercises[0].reps: 010 has a leading zero (YAML reads it as the octal number 8); "
                  "write 10, not 010 (r.yaml line 5)"),
    ("reps: 09", "exercises[0].reps: 09 has a leading zero (YAML reads it as text); write 9, not 09 "
                 "(r.yaml line 5)"),
    ("sets: 0x10", "exercises[0].sets: 0x10 is a hexadecimal number (16) in YAML; write 16, not 0x10 "
                   "(r.yaml line 5)"),
    ("reps: 0b11", "exercises[0].reps: 0b11 is a binary number (3) in YAML; write 3, not 0b11 (r.yaml line 5)"),
    ("hold: 1:30", "exercises[0].hold: 1:30 is read in base 60 by YAML; write 1m30s, not 1:30 (r.yaml line 5)"),
    ("reps: 1:30", "exercises[0].reps: 1:30 is a time (YAML reads it in base 60); write a whole number "
                   "such as 10, not 1:30 (r.yaml line 5)"),
    ("reps: {start: 02, max: 10}", "exercises[0].reps.start: 02 has a leading zero (YAML reads it as the "
                                   "octal number 2); write 2, not 02 (r.yaml line 5)"),
])
def test_numbers_yaml_would_misread_are_refused_saying_what_to_write(field, message):
    assert error_of(one(field)) == message


def test_a_rest_written_in_base_60_is_refused():
    text = "title: T\nrest: 1:30\nexercises:\n  - name: Tilt\n    cue: Tilt your hips.\n"
    assert error_of(text) == "rest: 1:30 is read in base 60 by YAML; write 1m30s, not 1:30 (r.yaml line 2)"


def test_numbers_as_written_still_read_as_written():
    routine = parse_routine(one("hold: 10\n    reps: 10\n    sets: 2"), name="r.yaml")
    exercise = routine.exercises[0]
    assert (exercise.steps[0].hold_s, exercise.reps, exercise.sets) == (10.0, 10, 2)
    quoted = parse_routine(one('hold: "010"'), name="r.yaml")  # text: a duration of 10 s
    assert quoted.exercises[0].steps[0].hold_s == 10.0
    assert parse_routine(one("hold: 1m30s"), name="r.yaml").exercises[0].steps[0].hold_s == 90.0


# -- 8. texts that say nothing ------------------------------------------------------------

@pytest.mark.parametrize("said", ['"\\u200b"', '"..."', '"\\u0301"', '"!? -"'])
def test_a_text_with_nothing_to_say_is_refused(said):
    assert error_of(one(f"release: {said}")) == (
        "exercises[0].release: says nothing aloud: it has no letters or digits; write the words to "
        "say (r.yaml line 5)")
    title = f"title: {said}\nexercises:\n  - name: Tilt\n    cue: Tilt your hips.\n"
    assert error_of(title).startswith("title: says nothing aloud")


def test_texts_with_a_letter_or_digit_or_a_side_are_fine():
    routine = parse_routine("title: '3'\nexercises:\n  - name: Ü...\n    sides: [left, right]\n"
                            "    cue: '{side}'\n", name="r.yaml")
    assert (routine.title, routine.exercises[0].name) == ("3", "Ü...")


class SilentSynthesizer(FakeSynthesizer):
    def synthesize(self, text):
        return Audio(np.zeros(4410, np.int16))


def test_speech_that_comes_out_silent_is_an_error_naming_the_text(tmp_path):
    cache = SpeechCache(SilentSynthesizer(), tmp_path)
    with pytest.raises(InputError, match=r"^the voice says nothing aloud for 'Lie on your back\.'; "):
        cache.audio(TEXT)
    assert not list(tmp_path.rglob("*.pcm"))  # nothing empty is stored


@requires_espeak
def test_espeak_silence_is_refused_before_synthesis(tmp_path):
    """What espeak-ng says nothing for: found by the validator, no synthesis needed."""
    routine = tmp_path / "z.yaml"
    routine.write_text(one('cue: "\\u200b"').replace("    cue: Tilt your hips.\n", ""))
    result = subprocess.run([sys.executable, "-m", "voicecoach", "plan", str(routine), "--engine", "espeak"],
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (
        2, f"Error: exercises[0].cue: says nothing aloud: it has no letters or digits; write the words "
           f"to say ({routine} line 4)\n")


# -- 5. the 6-hour limit counts speech ----------------------------------------------------

def test_a_small_file_of_long_cues_is_refused_as_too_long_before_any_speech():
    """The probe: 8000 cues of 5000 characters, no holds, in about 5 kB."""
    cue = ("Breathe in slowly " * 300)[:MAX_TEXT_CHARS].strip()
    text = (f"title: T\nexercises:\n  - name: Long\n    sides: [a, b, c, d]\n    reps: 100\n"
            f"    sets: 20\n    cue: {cue}\n")
    assert len(text) < 5_200
    message = error_of(text)
    assert message.startswith("exercises[0]: makes the session at least ")
    assert message.endswith(" hours long with its speech; at most 6 hours: use fewer reps, sets or "
                            "shorter texts (r.yaml line 3)")
    hours = float(message.split("at least ")[1].split(" hours")[0])
    assert hours == pytest.approx(8000 * sum(c.isalpha() for c in cue) / MAX_SOUNDED_CHARS_PER_S / 3600,
                                  abs=0.1)


def test_a_long_but_possible_session_is_accepted():
    """Two hours of holds and an hour of ordinary speech (25 letters a second): fine."""
    cue = "Lift your knee slowly towards your chest and breathe."  # 44 letters
    routine = parse_routine(f"title: T\nexercises:\n  - name: Lift\n    reps: 100\n    sets: 20\n"
                            f"    cue: {cue}\n    hold: 3.6s\n", name="r.yaml")
    assert routine.exercises[0].reps == 100


def test_the_real_length_is_checked_after_synthesis():
    """Speech slower than the estimate (a long text at 80 WPM): refused once measured."""
    routine = parse_routine("title: T\nexercises:\n  - name: Lift\n    reps: 100\n    sets: 20\n"
                            "    cue: Lift your knee and hold it there.\n", name="r.yaml")
    phrases = load_phrases("en")
    cue_samples = 14 * 22050  # 14 s a cue: 2000 cues make 7.8 hours
    timeline = build_timeline(routine, lambda text: cue_samples if "knee" in text else 22050,
                              lambda name: 2205, 22050, phrases)
    assert timeline.total_s > 7.8 * 3600
    with pytest.raises(RoutineError) as caught:
        check_length(timeline, routine)
    assert str(caught.value) == (f"makes a session {timeline.total_s / 3600:.1f} hours long with its "
                                 "speech; at most 6 hours: use fewer reps, sets or shorter texts (r.yaml)")


def test_prepare_checks_the_real_length(monkeypatch):
    class Slow(FakeSynthesizer):  # a cue of 7 words lasts 42 s at 10 WPM
        identity = "fake:slow"

        def __init__(self):
            super().__init__(rate=10)
    routine = parse_routine("title: T\nexercises:\n  - name: Lift\n    reps: 30\n    sets: 20\n"
                            "    cue: Lift your knee and hold it there.\n", name="r.yaml")
    with pytest.raises(RoutineError, match=r"^makes a session 7\.\d hours long with its speech"):
        prepare(routine, synthesizer=Slow())


# -- 2. a damaged or unusable speech cache ------------------------------------------------

def test_a_cache_entry_that_is_a_folder_is_replaced(tmp_path, capsys):
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    entry = cache.path_for(TEXT)
    (entry / "inside").mkdir(parents=True)
    assert len(cache.audio(TEXT)) == FakeSynthesizer.spoken_samples(TEXT)
    assert entry.is_file() and cache_module._read_entry(entry, 22050) is not None
    assert capsys.readouterr().err == ""


def test_a_cache_shard_that_is_a_file_is_replaced(tmp_path, capsys):
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    shard = cache.path_for(TEXT).parent
    shard.write_bytes(b"not a folder")
    assert len(cache.audio(TEXT)) == FakeSynthesizer.spoken_samples(TEXT)
    assert shard.is_dir() and cache.path_for(TEXT).is_file()
    assert capsys.readouterr().err == ""


def test_a_named_pipe_in_place_of_an_entry_does_not_hang_and_is_replaced(tmp_path):
    cache = SpeechCache(FakeSynthesizer(), tmp_path)
    entry = cache.path_for(TEXT)
    entry.parent.mkdir(parents=True)
    os.mkfifo(entry)
    results = []
    reader = threading.Thread(target=lambda: results.append(cache.audio(TEXT)), daemon=True)
    reader.start()
    reader.join(10)
    if reader.is_alive():  # unblock the reader so the test run can end
        with open(entry, "wb"):
            pass
        pytest.fail("reading a named pipe in the cache hung")
    assert len(results[0]) == FakeSynthesizer.spoken_samples(TEXT)
    assert entry.is_file() and not entry.is_fifo()


def test_a_full_disk_leaves_speech_working_uncached_with_one_warning(tmp_path, monkeypatch, capsys):
    def full(path, audio):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(cache_module, "_publish", full)
    synth = FakeSynthesizer()
    cache = SpeechCache(synth, tmp_path / "full")
    texts = [f"{TEXT} {n}" for n in range(60)]  # 5.6 MB of speech: more than memory keeps
    first = [cache.audio(t).samples.copy() for t in texts]
    again = [cache.audio(t).samples for t in texts]
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert synth.calls == texts  # each made once: held for the session, not made again
    assert capsys.readouterr().err == (f"Warning: the speech cache {tmp_path / 'full'} cannot be used "
                                       "(No space left on device); going on without it\n")


def test_a_read_only_cache_folder_leaves_speech_working(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o700)
    os.chmod(folder, 0o500)
    if os.geteuid() == 0:  # root writes anyway: make the write fail as it would for a user
        def refused(*args, **kwargs):
            raise PermissionError(13, "Permission denied")
        monkeypatch.setattr(cache_module.tempfile, "mkstemp", refused)
    try:
        cache = SpeechCache(FakeSynthesizer(), folder)
        assert len(cache.audio(TEXT)) == FakeSynthesizer.spoken_samples(TEXT)
        assert len(cache.audio(TEXT + " Again.")) > 0
    finally:
        os.chmod(folder, 0o700)
    err = capsys.readouterr().err
    assert err == f"Warning: the speech cache {folder} cannot be used (Permission denied); going on without it\n"


def test_a_cache_home_that_is_a_file_means_no_cache_and_one_warning(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("VOICECOACH_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    with pytest.raises(UserDirUnavailable) as caught:
        cache_dir()
    assert str(caught.value) == (f"cannot create the folder {blocker}/voicecoach (Not a directory: "
                                 f"{blocker}/voicecoach); set XDG_CACHE_HOME to a folder you can write")
    synth = FakeSynthesizer()
    first = SpeechCache(synth)
    second = SpeechCache(synth)  # live play makes two: still one warning
    assert first.directory is None
    assert len(first.audio(TEXT)) == len(second.audio(TEXT)) == FakeSynthesizer.spoken_samples(TEXT)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("Warning: the speech cache folder cannot be used "
                                                   f"(cannot create the folder {blocker}/voicecoach")


def test_a_home_that_cannot_hold_the_folders_is_one_line(tmp_path, monkeypatch):
    for name in ("VOICECOACH_CACHE_DIR", "VOICECOACH_STATE_DIR", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", "/proc/no-home")  # not writable, even by root
    with pytest.raises(UserDirUnavailable, match=r"^cannot create the folder /proc/no-home/\.cache/"
                                                 r"voicecoach \(.*\); set XDG_CACHE_HOME to a folder"):
        cache_dir()
    with pytest.raises(UserDirUnavailable, match="set XDG_STATE_HOME to a folder you can write$"):
        state_dir()


def test_an_unusable_cache_is_one_warning_line_in_the_cli(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {k: v for k, v in os.environ.items() if k != "VOICECOACH_CACHE_DIR"}
    code = ("import sys; sys.path.insert(0, 'tests'); from fakes import FakeSynthesizer;"
            "from voicecoach.session.prepare import prepare;"
            "s = prepare('back-pain', synthesizer=FakeSynthesizer()); print(round(s.timeline.total_s))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**env, "XDG_CACHE_HOME": str(blocker), "VOICECOACH_STATE_DIR": str(tmp_path)},
                            cwd=Path(__file__).parent.parent)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) > 60
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("Warning: the speech cache")


# -- 4. a damaged saved place ------------------------------------------------------------

@pytest.mark.parametrize("content", ['{"builtin:back-pain": "Beta"}', '{"builtin:back-pain": [1]}',
                                     '[' * 100_000 + ']' * 100_000, '{"x": {"chapter": true, "title": "A"}}',
                                     "not json"])
def test_a_damaged_place_file_is_set_aside_and_the_user_told(tmp_path, content):
    folder = tmp_path / "places"
    folder.mkdir()
    (folder / FILE_NAME).write_text(content)
    warnings = []
    places = Places("back-pain", folder, warn=warnings.append)
    session = prepare("back-pain", synthesizer=FakeSynthesizer())
    assert places.find(session.timeline) is None
    aside = list(folder.glob(f"{FILE_NAME}.damaged-*"))
    assert len(aside) == 1 and aside[0].read_text() == content  # kept, not deleted
    assert len(warnings) == 1 and warnings[0].startswith(f"Warning: the saved places {folder / FILE_NAME} "
                                                         "were damaged (")
    assert warnings[0].endswith(f"moved to {aside[0].name}, starting afresh")
    places.save(1, "Pelvic tilt")
    assert Places("back-pain", folder).saved() == {"chapter": 1, "title": "Pelvic tilt"}


@pytest.mark.parametrize("resume", [False, True])
def test_a_damaged_place_never_stops_a_session(tmp_path, monkeypatch, capsys, resume):
    routine = tmp_path / "routine.yaml"
    routine.write_text(ROUTINE)
    state = tmp_path / "state"
    state.mkdir(exist_ok=True)
    (state / FILE_NAME).write_text(json.dumps({str(routine.resolve()): [1]}))
    clock = FakeClock()
    code = play_routine(SessionRequest(str(routine)), lead_in_s=0, resume=resume,
                        parts=Parts(synthesizer=FakeSynthesizer(), device=FakeDevice(clock),
                                    stdout=io.StringIO(), clock=clock, controls=FakeKeys(clock),
                                    background=False))
    assert code == 0
    assert len(list(state.glob(f"{FILE_NAME}.damaged-*"))) == 1
    assert capsys.readouterr().err.count("Warning: the saved places") == 1


def test_a_state_home_that_is_a_file_plays_on_without_a_place(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.delenv("VOICECOACH_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(blocker))
    warnings = []
    places = Places("back-pain", warn=warnings.append)
    places.save(1, "Pelvic tilt")
    assert places.saved() is None
    places.clear()
    assert warnings == [f"Warning: cannot create the folder {blocker}/voicecoach (Not a directory: "
                        f"{blocker}/voicecoach); set XDG_STATE_HOME to a folder you can write; your "
                        "place is not kept this time"]


# -- 7. a chime that is not a regular file -------------------------------------------------

def test_a_chime_that_is_a_named_pipe_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "f.wav")
    (tmp_path / "r.yaml").write_text("title: T\nsounds:\n  start: f.wav\nexercises:\n"
                                     "  - name: Tilt\n    cue: Tilt your hips.\n")
    with pytest.raises(RoutineError) as caught:
        load_routine(str(tmp_path / "r.yaml"))
    assert str(caught.value) == (f"sounds.start: sound file 'f.wav' is not a regular file (a named pipe); "
                                 f"give a WAV file ({tmp_path / 'r.yaml'} line 3)")
    (tmp_path / "d.wav").mkdir()
    (tmp_path / "r.yaml").write_text((tmp_path / "r.yaml").read_text().replace("f.wav", "d.wav"))
    with pytest.raises(RoutineError, match=r"'d\.wav' is not a regular file \(a folder\)"):
        load_routine(str(tmp_path / "r.yaml"))


# -- 6. signals while speech is made; the engine's temporary folder ----------------------

def test_scratch_folders_live_in_the_cache_and_abandoned_ones_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(cache_module, "_SCRATCH", {})
    with scratch_folder() as folder:
        assert folder.parent == tmp_path / "cache" / "tmp"
        (folder / "cue.wav").write_bytes(b"x")
        live = folder
        # another process starting now leaves a folder that is in use alone
        old = time.time() - 3600
        os.utime(live, (old, old))
        monkeypatch.setattr(cache_module, "_SCRATCH", {})
        abandoned = tmp_path / "cache" / "tmp" / "voicecoach-tts-abandoned"
        abandoned.mkdir()
        (abandoned / "cue.wav").write_bytes(b"x")
        os.utime(abandoned, (old, old))
        cache_module._scratch_base()
        assert live.is_dir() and not abandoned.exists()
    assert not live.exists()


LONG_ROUTINE = "title: Long\nexercises:\n" + "".join(
    f"  - name: Part {n}\n    cue: {('Breathe in and slowly out again, number ' + str(n) + '. ') * 40}\n"
    for n in range(30))


def _start_plan(tmp_path):
    routine = tmp_path / "long.yaml"
    routine.write_text(LONG_ROUTINE)
    (tmp_path / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp_path / "tmp"), "VOICECOACH_CACHE_DIR": str(tmp_path / "cache")}
    process = subprocess.Popen([sys.executable, "-m", "voicecoach", "plan", str(routine), "--engine", "espeak"],
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    scratch = tmp_path / "cache" / "tmp"
    deadline, seen = time.monotonic() + 60, {}
    while True:  # until one cue's folder has been there a while: a long cue is being spoken
        now = time.monotonic()
        folders = {folder.name for folder in scratch.glob("voicecoach-tts-*")}
        seen = {name: seen.get(name, now) for name in folders}
        if any(now - since > 0.3 for since in seen.values()):
            return process, env, routine
        assert process.poll() is None and now < deadline, process.stderr.read()
        time.sleep(0.01)


def _leftovers(tmp_path) -> list[Path]:
    return list((tmp_path / "tmp").iterdir()) + list((tmp_path / "cache" / "tmp").glob("voicecoach-tts-*"))


@requires_espeak
def test_sigterm_while_speech_is_made_says_so_and_leaves_nothing(tmp_path):
    process, _, _ = _start_plan(tmp_path)
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=30)
    assert (process.returncode, out, err) == (128 + signal.SIGTERM, "", "Stopped by SIGTERM.\n")
    assert _leftovers(tmp_path) == []


@requires_espeak
def test_sigkill_while_speech_is_made_leaves_a_folder_the_next_run_removes(tmp_path):
    process, env, routine = _start_plan(tmp_path)
    process.kill()
    process.communicate(timeout=30)
    time.sleep(espeak_worker.PARENT_POLL_S * 6)  # espeak-ng's child goes once it sees its parent gone
    left = list((tmp_path / "cache" / "tmp").glob("voicecoach-tts-*"))
    assert len(left) == 1 and list((tmp_path / "tmp").iterdir()) == []  # not in TMPDIR
    old = time.time() - 60
    os.utime(left[0], (old, old))
    short = tmp_path / "short.yaml"
    short.write_text("title: S\nexercises:\n  - name: One\n    cue: Just one.\n")
    result = subprocess.run([sys.executable, "-m", "voicecoach", "plan", str(short), "--engine", "espeak"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert _leftovers(tmp_path) == []


# -- 9. espeak-ng without its data ----------------------------------------------------------

@requires_espeak
def test_espeak_data_missing_is_our_line_with_the_install_hint(tmp_path):
    (tmp_path / "espeak-ng-data").mkdir()
    env = {**os.environ, "ESPEAK_DATA_PATH": str(tmp_path)}
    result = subprocess.run([sys.executable, "-m", "voicecoach", "voices", "--engine", "espeak"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"Error: espeak-ng's data is missing: no phontab in {tmp_path}/espeak-ng-data "
                             "(from ESPEAK_DATA_PATH); install it with: sudo apt-get install espeak-ng && "
                             "pip install pyttsx3\n")
