"""The routine format: durations, every validation rule with its exact message, the
built-in routine against its source, sound files, limits, and real exercise texts.

The corpus in tests/broken/ checks the same rules through ``voicecoach check``
(test_fuzz_routine.py); here they are checked on the library, with the error's fields.
"""

from __future__ import annotations

import dataclasses

import json
import os
import re
import shutil
import wave
from pathlib import Path

import pytest
import yaml

from voicecoach.routine import vocabulary
from voicecoach.errors import InputError, RoutineError
from voicecoach.routine import (Exercise, Routine, Step, builtin_names, format_duration, load_routine,
                                parse_duration, parse_routine)
from voicecoach.routine.nodes import NodeReader
from voicecoach.routine.vocabulary import MAX_CUES, MAX_TEXT_CHARS
from voicecoach.routine.yamlsafe import compose
from voicecoach.plan.model import HOLD, SPEECH
from voicecoach.plan.timeline import build_timeline

from fakes import FakeSynthesizer
from support import EXERCISE_TEXTS, TEST_DATA

DATA = Path(__file__).parent / "data"
# The exercises the built-in routine's source text describes (the text itself is not shipped).
SOURCE_EXERCISES = TEST_DATA / "back-pain-source-exercises.txt"
ONE = "exercises:\n  - name: Tilt\n    cue: Tilt your hips.\n"


def error_of(text: str | bytes, name: str = "r.yaml") -> RoutineError:
    with pytest.raises(RoutineError) as caught:
        parse_routine(text, name=name)
    return caught.value


def write_wav(path: Path, *, width: int = 2, frames: int = 2205, rate: int = 22050, channels: int = 1):
    """A WAV made from known samples (a quiet ramp), so nothing opaque is committed."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(width)
        out.setframerate(rate)
        out.writeframes(bytes((i * 7) % 251 for i in range(frames * width * channels)))
    return path


# -- durations -------------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("2s", 2.0), ("1.5s", 1.5), ("90s", 90.0), ("1m", 60.0), ("1m30s", 90.0), ("1m 30s", 90.0),
    ("2", 2.0), ("2.25", 2.25), (3, 3.0), (0.75, 0.75), ("10min", 600.0), ("1.5m", 90.0),
    ("2 seconds", 2.0), ("1 minute 5 seconds", 65.0), ("2 sec", 2.0), ("2S", 2.0), (" 4s ", 4.0),
    ("+5", 5.0),
])
def test_durations_people_write(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("value, message", [
    ("", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text ''"),
    ("2h", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '2h'"),
    ("2ms", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '2ms'"),
    ("s", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text 's'"),
    ("1m30", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '1m30'"),
    ("30s1m", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '30s1m'"),
    (".5s", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '.5s'"),
    ("1e3", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text '1e3'"),
    ("nan", "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got the text 'nan'"),
    (True, "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got true (true/false)"),
    (None, "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got nothing (null)"),
    ([2], "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got [2]"),
    (float("nan"), "must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got NaN (not a number)"),
    (float("inf"), "must be a finite duration like 2s or 1m30s, got inf"),
    ("9" * 400, "must be a finite duration like 2s or 1m30s, got 9999999999999999999999999999999999999..."),
    (0, "must be a positive duration like 2s or 1m30s, got 0"),
    ("0s", "must be a positive duration like 2s or 1m30s, got 0s"),
    ("-3", "must be a positive duration like 2s or 1m30s, got -3"),
    ("-1m", "must be a positive duration like 2s or 1m30s, got -1m"),
    (-0.5, "must be a positive duration like 2s or 1m30s, got -0.5"),
])
def test_bad_durations_say_what_would_be_right(value, message):
    with pytest.raises(ValueError) as caught:
        parse_duration(value)
    assert str(caught.value) == message


@pytest.mark.parametrize("seconds, words", [
    (10, "10 seconds"), (1, "1 second"), (1.5, "1.5 seconds"), (60, "1 minute"),
    (90, "1 minute 30 seconds"), (120, "2 minutes"), (0.5, "0.5 seconds"),
])
def test_durations_are_spoken_in_words(seconds, words):
    assert format_duration(seconds) == words


# -- every rule, its message and its fields -------------------------------------------

def test_an_error_carries_file_line_and_field():
    error = error_of("title: x\n" + ONE + "    hold: -3\n", name="my.yaml")
    assert (error.path, error.line, error.field) == ("my.yaml", 5, "exercises[0].hold")
    assert str(error) == ("exercises[0].hold: must be a positive duration like 2s or 1m30s, "
                          "got -3 (my.yaml line 5)")
    assert isinstance(error, InputError) and error.exit_code == 2


@pytest.mark.parametrize("text, message", [
    # unknown keys, with "did you mean" from spelling or from words people use
    ("title: x\nexercise:\n  - name: a\n", "exercise: unknown key; did you mean 'exercises'? (r.yaml line 2)"),
    ("name: x\n" + ONE, "name: unknown key; did you mean 'title'? (r.yaml line 1)"),
    ("title: x\n" + ONE + "    repetitions: 3\n",
     "exercises[0].repetitions: unknown key; did you mean 'reps'? (r.yaml line 5)"),
    ("title: x\n" + ONE + "    say: Hi.\n", "exercises[0].say: unknown key; did you mean 'cue'? (r.yaml line 5)"),
    ("title: x\n" + ONE + "    description: Lie down.\n",
     "exercises[0].description: unknown key; did you mean 'instructions'? (r.yaml line 5)"),
    ("title: x\n" + ONE + "    wobble: 1\n", "exercises[0].wobble: unknown key; allowed keys: name, "
     "instructions, reps, sets, rest_between_sets, sides, alternate, steps, cue, hold, release, count "
     "(r.yaml line 5)"),
    ('title: x\n"odd key\\n": 1\n' + ONE,
     "'odd key\\n': unknown key; allowed keys: title, language, intro, outro, rest, exercises, sounds, schedule (r.yaml line 2)"),
    ("title: x\n" + "k" * 300 + ": 1\n" + ONE,
     "'kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...': unknown key; allowed keys: title, language, intro, outro, "
     "rest, exercises, sounds, schedule (r.yaml line 2)"),
    ("title: x\n[a, b]: 1\n" + ONE, "has a key that is not a name: a list (r.yaml line 2)"),
    # wrong types
    ("title: x\nintro: [a]\n" + ONE, "intro: must be text, got a list (r.yaml line 2)"),
    ("title: x\noutro: {a: 1}\n" + ONE, "outro: must be text, got a mapping (r.yaml line 2)"),
    ("title: x\n" + ONE + "    sides: [left, [right]]\n",
     "exercises[0].sides[1]: must be text, got a list (r.yaml line 5)"),
    ("title: x\n" + ONE + "    hold: 2s\n    count: 1\n",
     "exercises[0].count: must be true or false, got the number 1 (r.yaml line 6)"),
    ("title: x\n" + ONE + "    reps: 1" + "0" * 5000 + "\n",
     "exercises[0].reps: must be a whole number from 1 to 100, got the text "
     "'1000000000000000000000000000000000000...' (r.yaml line 5)"),
    ("title: x\n" + ONE + "    sides: [a, b, c, d, e]\n", "exercises[0].sides: has 5 sides; at most 4 (r.yaml line 5)"),
    ("title: x\n" + ONE + "    sets: 21\n", "exercises[0].sets: must be a whole number from 1 to 20, got 21 (r.yaml line 5)"),
    ("title: x\nrest: 31m\n" + ONE, "rest: must be at most 30 minutes, got 31m (r.yaml line 2)"),
    ("title: x\n" + ONE + "    hold: 601\n", "exercises[0].hold: must be at most 10 minutes, got 601 (r.yaml line 5)"),
    ("title: x\n" + ONE + "    hold: 0.4s\n", "exercises[0].hold: must be at least 0.5s, got 0.4s (r.yaml line 5)"),
    ("title: x\n" + ONE + "    hold: .NaN\n",
     "exercises[0].hold: must be a duration like 2s, 1.5s, 90s, 1m or 1m30s, got NaN (not a number) (r.yaml line 5)"),
    ("title: x\n" + ONE + "    hold: -.inf\n",
     "exercises[0].hold: must be a finite duration like 2s or 1m30s, got -inf (r.yaml line 5)"),
    # texts
    ("title: '   '\n" + ONE, "title: must not be empty (r.yaml line 1)"),
    ('title: "a\\0b"\n' + ONE, "title: contains the character U+0000, which is not text; remove it (r.yaml line 1)"),
    ('title: "\\ud800"\n' + ONE, "title: contains the character U+D800, which is not text; remove it (r.yaml line 1)"),
    ("title: x\n" + ONE.replace("Tilt your hips.", "Tilt {side!r}") + "    sides: [l]\n",
     "exercises[0].cue: unknown placeholder {side!r}; the only one is {side} (r.yaml line 4)"),
    ("title: x\n" + ONE.replace("Tilt your hips.", "Tilt {0}") + "    sides: [l]\n",
     "exercises[0].cue: unknown placeholder {0}; the only one is {side} (r.yaml line 4)"),
    ("title: x\n" + ONE + "    sides: ['{side}']\n",
     "exercises[0].sides[0]: cannot use {side} here; only cue, say and release can (r.yaml line 5)"),
    ("title: x\n" + ONE + "    hold: 2s\n    release: And {side}.\n",
     "exercises[0].release: uses {side} but the exercise has no sides; add sides: [left, right] (r.yaml line 6)"),
    # alternating sides
    ("title: x\n" + ONE + "    alternate: true\n", "exercises[0].alternate: needs sides to alternate "
     "between, e.g. sides: [right, left]; add them or drop alternate (r.yaml line 5)"),
    ("title: x\n" + ONE + "    sides: [left]\n    alternate: true\n", "exercises[0].alternate: needs "
     "sides to alternate between, e.g. sides: [right, left]; add them or drop alternate (r.yaml line 6)"),
    ("title: x\n" + ONE + "    sides: [l, r]\n    alternate: often\n",
     "exercises[0].alternate: must be true or false, got the text 'often' (r.yaml line 6)"),
    # YAML itself
    ("title: !!timestamp 2024-01-01\n" + ONE, "YAML tag !!timestamp is not supported; remove it (r.yaml line 1)"),
    ("title: !!set {a}\n" + ONE, "YAML tag !!set is not supported; remove it (r.yaml line 1)"),
    ("title: x\x00\n" + ONE, "contains the character U+0000, which YAML does not allow; remove it (r.yaml line 1)"),
    ("title: x\n" + ONE + "  - name: b\n    cue: c\n" + "\n" * 3 + "x: \x1b\n",
     "contains the character U+001B, which YAML does not allow; remove it (r.yaml line 10)"),
    ("title: 'x\n", "YAML syntax error: found unexpected end of stream, in the quoted text that starts "
     "on line 1 (r.yaml line 2)"),
    ("title: {a: 1\n", "YAML syntax error: expected ',' or '}', but got '<stream end>', in the {...} "
     "mapping that starts on line 1 (r.yaml line 2)"),
    ("title: x: y\n", "YAML syntax error: unexpected ':'; put text that contains ': ' in quotes, "
     "or fix the indentation (r.yaml line 1)"),
    ("title: x\n" + ONE + "\n\n   - name: b\n", "YAML syntax error: the indentation does not line up; "
     "keys of one mapping start in the same column (r.yaml line 7)"),
    ("%YAML 2.0\n---\ntitle: x\n", "YAML syntax error: found incompatible YAML document "
     "(version 1.* is required) (r.yaml line 1)"),
    ("", "the routine file is empty; a routine needs at least a title and exercises (r.yaml)"),
    ("---\n...\n", "the routine file is empty; a routine needs at least a title and exercises (r.yaml)"),
    (b"title: x\n\xff\xfe\n", "is not UTF-8 text (byte 0xFF at column 1); save it as UTF-8 (r.yaml line 2)"),
    (b"title: caf\xe9\n", "is not UTF-8 text (byte 0xE9 at column 11); save it as UTF-8 (r.yaml line 1)"),
    ("x: " + "[" * 21 + "]" * 21, "is nested more than 20 levels deep; a routine needs 6 (r.yaml line 1)"),
    ("title: x\nintro: &a Hello\noutro: *a\n" + ONE,
     "YAML aliases (*name) are not supported; write the value out in full (r.yaml line 3)"),
    # structure
    ("title: x\nexercises:\n  - name: a\n    steps: []\n    release: Relax.\n    hold: 2s\n",
     "exercises[0].hold: cannot be used together with steps; put it inside a step (say/hold/release) "
     "or drop steps (r.yaml line 6)"),
    ("title: x\nexercises:\n  - name: Tilt\n    steps:\n      - say: Tilt.\n        count: false\n",
     "exercises[0].steps[0].count: only applies to a hold (it counts down its last seconds); add hold "
     "or drop count (r.yaml line 6)"),
    ("title: x\nsounds: {start: bell.wav}\n" + ONE,
     "sounds.start: sound files can only be used in a routine file (r.yaml line 2)"),
    ("title: x\n" + ONE + "    sides: [left, right, up, down]\n    reps: 100\n    sets: 20\n"
     "    steps2: 1\n", "exercises[0].steps2: unknown key; did you mean 'steps'? (r.yaml line 8)"),
])
def test_each_rule_has_its_one_line_message(text, message):
    error = error_of(text)
    assert str(error) == message
    assert "\n" not in str(error)


def test_too_many_cues_names_the_exercise_that_tips_it_over():
    many = "  - name: Many\n    sides: [a, b, c, d]\n    reps: 100\n    sets: 20\n    cue: Go.\n"
    text = "title: x\nexercises:\n" + many + many + many.replace("sets: 20", "sets: 11")
    assert 3 * 8000 > MAX_CUES
    assert str(error_of(text)) == ("exercises[2]: makes the session 20400 cues long; at most 20000: "
                                   "use fewer reps, sets or exercises (r.yaml line 13)")
    exactly = "title: x\nexercises:\n" + many + many + many.replace("sets: 20", "sets: 10")
    assert len(parse_routine(exactly).exercises) == 3  # 20000 cues is still allowed


def test_texts_up_to_the_limit_load_and_longer_ones_are_named():
    words = ("Keep your back flat and breathe out slowly as you lift. " * 100)[:MAX_TEXT_CHARS].strip()
    longest = words + "x" * (MAX_TEXT_CHARS - len(words))
    loaded = parse_routine(f"title: x\nexercises:\n  - name: a\n    instructions: {longest}\n    cue: Go.\n")
    assert loaded.exercises[0].instructions == longest
    text = f"title: x\nexercises:\n  - name: a\n    instructions: {longest}y\n    cue: Go.\n"
    assert str(error_of(text)) == ("exercises[0].instructions: is 5001 characters long; at most 5000 "
                                   "(r.yaml line 4)")


# -- what valid routines become ---------------------------------------------------------

def test_every_key_is_read_as_written():
    loaded = load_routine(DATA / "every-key.yaml")
    assert loaded.title == "Every key"
    assert loaded.intro == "Lie on your back. If anything hurts, stop."
    assert loaded.outro == "That is all. Well done."
    assert loaded.rest_s == 90.0
    assert loaded.per_week == 3
    tilt, rolls, still = loaded.exercises
    assert tilt == Exercise(
        name="Pelvic tilt", instructions="Knees bent, feet flat on the floor.", reps=3, sets=2,
        rest_between_sets_s=20.0, sides=(),
        steps=(Step("Tilt your hips.", 2.0, "And relax.", True), Step("Now the other way.", 1.5, None, False)))
    assert rolls.sides == ("right", "left") and rolls.reps == 2
    assert rolls.steps == (Step("Roll your knees to the {side}.", 25.0, "And back to the middle from the {side}."),)
    assert still.steps == (Step(None, 60.0),)  # hold alone: the phrase pack says "Hold."
    assert loaded.source == str(DATA / "every-key.yaml")
    assert loaded.folder == DATA.resolve()


def test_an_exercise_with_only_a_name_says_its_name_once():
    loaded = parse_routine("title: x\nexercises:\n  - name: Walk about {{slowly}}\n  - name: Sit\n    reps: 2\n")
    walk, sit = loaded.exercises
    assert (walk.steps, walk.reps, walk.sides) == ((Step("Walk about {{slowly}}"),), 1, ())
    assert sit.steps == (Step("Sit"),) and sit.reps == 2
    timeline = build_timeline(loaded, lambda text: 100, lambda name: 10, 1000)
    assert [e.text for e in timeline.events if e.kind == SPEECH and e.chapter][:-1] == ["Next exercise: Walk about {slowly}. 1 repetition.",
                                             "Walk about {slowly}", "Next exercise: Sit. 2 repetitions.",
                                             "Sit", "Last one. Sit"]
    assert not [e for e in timeline.events if e.kind == HOLD]


def test_alternate_is_read_with_its_sides():
    loaded = parse_routine("title: x\n" + ONE + "    sides: [right, left]\n    alternate: true\n")
    assert loaded.exercises[0].alternate and loaded.exercises[0].sides == ("right", "left")
    assert not parse_routine("title: x\n" + ONE).exercises[0].alternate


def test_doubled_braces_are_spoken_as_braces():
    loaded = load_routine(DATA / "braces.yaml")
    assert loaded.title == "Braces {ok}"
    first, sided = loaded.exercises
    assert first.name == "Say {this}" and first.instructions == "Curly {braces} here too."
    timeline = build_timeline(loaded, lambda text: 100, lambda name: 10, 1000)
    spoken = timeline.spoken_texts()
    assert "Hold the {brace} position." in spoken
    assert "left and {brace}" in spoken


def test_texts_are_normalised_and_numbers_dates_are_text():
    loaded = parse_routine("\ufefftitle: 2024-05-01\nintro: 3\nexercises:\n  - name: 12\n"
                           "    cue: |\n      Breathe   in,\n      and out.\n")
    assert loaded.title == "2024-05-01" and loaded.intro == "3"
    assert loaded.exercises[0].name == "12"
    assert loaded.exercises[0].steps[0].say == "Breathe in, and out."


def test_a_routine_is_a_frozen_value():
    loaded = load_routine(DATA / "minimal.yaml")
    assert loaded == Routine("Minimal", (Exercise("Breathe", (Step("Breathe in slowly."),)),),
                             source=str(DATA / "minimal.yaml"))
    with pytest.raises(AttributeError):
        loaded.title = "changed"


def test_loading_from_the_yaml_of_a_dumped_routine_gives_it_back():
    data = {"title": "Round trip", "rest": "5s", "exercises": [
        {"name": "A", "reps": 2, "sides": ["left", "right"], "cue": "Lift your {side} arm.", "hold": 3},
        {"name": "B", "steps": [{"say": "In.", "hold": "1m"}, {"say": "Out."}]}]}
    loaded = parse_routine(yaml.safe_dump(data))
    assert loaded.rest_s == 5.0
    assert loaded.exercises[0].steps[0] == Step("Lift your {side} arm.", 3.0)
    assert loaded.exercises[1].steps == (Step("In.", 60.0), Step("Out."))


# -- finding the routine ----------------------------------------------------------------

def test_a_near_miss_of_a_builtin_name_is_suggested():
    with pytest.raises(RoutineError) as caught:
        load_routine("back-pan")
    assert str(caught.value) == "no such file or built-in routine; did you mean 'back-pain'? (back-pan)"


def test_an_unknown_name_lists_the_builtins():
    with pytest.raises(RoutineError) as caught:
        load_routine("stretching")
    assert str(caught.value) == "no such file or built-in routine; built-in routines: back-pain (stretching)"


def test_a_missing_file_suggests_its_neighbour(tmp_path):
    shutil.copy(DATA / "minimal.yaml", tmp_path / "morning.yaml")
    with pytest.raises(RoutineError) as caught:
        load_routine(tmp_path / "mornin.yaml")
    assert str(caught.value) == (f"no such file or built-in routine; did you mean "
                                 f"'{tmp_path / 'morning.yaml'}'? ({tmp_path / 'mornin.yaml'})")


def test_files_that_are_not_routine_files(tmp_path):
    with pytest.raises(RoutineError, match=r"^is a directory; give a routine file \(\.yaml\) \("):
        load_routine(tmp_path)
    with pytest.raises(RoutineError, match=r"^is not a regular file; give a routine file \(\.yaml\) \(/dev/null\)$"):
        load_routine("/dev/null")
    big = tmp_path / "big.yaml"
    big.write_bytes(b"title: x\n" + b"#" * vocabulary.MAX_FILE_BYTES)
    with pytest.raises(RoutineError) as caught:
        load_routine(big)
    assert str(caught.value) == f"is larger than 1 MB; a routine file should be a few kilobytes ({big})"


def test_a_file_name_that_is_not_printable_is_shown_escaped(tmp_path):
    odd = str(tmp_path / "a\nb.yaml")
    with pytest.raises(RoutineError) as caught:
        load_routine(odd)
    assert "\n" not in str(caught.value) and repr(odd) in str(caught.value)


def test_builtin_names():
    assert builtin_names() == ["back-pain"]


# -- sound files --------------------------------------------------------------------------

def test_own_sounds_resolve_inside_the_routine_folder(tmp_path):
    shutil.copy(DATA / "sounds.yaml", tmp_path)
    write_wav(tmp_path / "bell.wav")
    write_wav(tmp_path / "tick.wav", channels=2, rate=44100)
    loaded = load_routine(tmp_path / "sounds.yaml")
    assert dict(loaded.sounds) == {"start": (tmp_path / "bell.wav").resolve(),
                                   "hold_end": (tmp_path / "tick.wav").resolve()}


def test_a_symlink_inside_the_folder_is_fine(tmp_path):
    (tmp_path / "sub").mkdir()
    write_wav(tmp_path / "sub" / "real.wav")
    (tmp_path / "bell.wav").symlink_to("sub/real.wav")
    (tmp_path / "r.yaml").write_text("title: x\nsounds: {start: bell.wav}\n" + ONE)
    assert dict(load_routine(tmp_path / "r.yaml").sounds)["start"] == (tmp_path / "sub" / "real.wav").resolve()


@pytest.mark.parametrize("make, message", [
    (lambda p: write_wav(p, width=3), "is 24-bit audio; give a 16-bit PCM WAV file"),
    (lambda p: write_wav(p, rate=4000), "has 1 channels at 4000 Hz; give a mono or stereo WAV at 8000-192000 Hz"),
    (lambda p: write_wav(p, channels=3), "has 3 channels at 22050 Hz; give a mono or stereo WAV at 8000-192000 Hz"),
    (lambda p: write_wav(p, frames=8000 * 61, rate=8000), "lasts 61 s; a chime must be at most 60 s"),
    (lambda p: p.write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x03\x00\x01\x00" + b"\x00" * 12),
     "is not a readable WAV file (unknown format: 3); give a 16-bit PCM WAV file"),
    (lambda p: p.write_bytes(b"RIFF"), "is not a readable WAV file (EOFError); give a 16-bit PCM WAV file"),
    (lambda p: p.write_bytes(b""), "is not a readable WAV file (EOFError); give a 16-bit PCM WAV file"),
    (lambda p: p.write_bytes(b"\0" * 10_000_001), "is larger than 10 MB; a chime is a short sound"),
])
def test_sound_files_must_be_short_16_bit_pcm_wavs(tmp_path, make, message):
    make(tmp_path / "chime.wav")
    (tmp_path / "r.yaml").write_text("title: x\nsounds:\n  end: chime.wav\n" + ONE)
    with pytest.raises(RoutineError) as caught:
        load_routine(tmp_path / "r.yaml")
    assert str(caught.value) == f"sounds.end: sound file 'chime.wav' {message} ({tmp_path / 'r.yaml'} line 3)"


def test_a_sound_path_through_a_symlinked_folder_is_outside(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    write_wav(tmp_path / "elsewhere" / "bell.wav")
    (tmp_path / "routine").mkdir()
    (tmp_path / "routine" / "linked").symlink_to(tmp_path / "elsewhere")
    (tmp_path / "routine" / "r.yaml").write_text("title: x\nsounds: {start: linked/bell.wav}\n" + ONE)
    with pytest.raises(RoutineError) as caught:
        load_routine(tmp_path / "routine" / "r.yaml")
    assert str(caught.value).startswith("sounds.start: must be a file inside the routine's folder; "
                                        "'linked/bell.wav' links to a file outside it (")


def test_a_symlink_loop_is_not_a_usable_name(tmp_path):
    (tmp_path / "loop.wav").symlink_to("loop.wav")
    (tmp_path / "r.yaml").write_text("title: x\nsounds: {start: loop.wav}\n" + ONE)
    with pytest.raises(RoutineError) as caught:
        load_routine(tmp_path / "r.yaml")
    assert str(caught.value) == f"sounds.start: is not a usable file name, got 'loop.wav' ({tmp_path / 'r.yaml'} line 2)"


# -- the built-in routine against its source -------------------------------------------

def test_the_builtin_routine_follows_the_leaflet():
    back = load_routine("back-pain")
    assert [e.name for e in back.exercises] == ["Pelvic tilt", "Cat-cow", "Knee rolls",
                                                "Single leg hug", "Double leg hug"]
    tilt, cat_cow, knees, single, double = back.exercises
    # Pelvic tilt: hold 2 seconds, then tilt the opposite way; 2 to 3 repetitions.
    assert [s.hold_s for s in tilt.steps] == [2.0, 2.0] and 2 <= tilt.reps <= 3
    # Cat-cow: arch and round with the breath.
    assert [s.say.split(",")[0] for s in cat_cow.steps] == ["Breathe in", "Breathe out"]
    # Knee rolls: to each side, a few seconds, building up to 15 repetitions, split into sets.
    assert knees.sides == ("right", "left") and knees.reps_range == (3, 15) and knees.per_set == 5
    # ...right, back to the middle, then the opposite side: alternating rep by rep.
    assert knees.alternate and knees.steps[0].release
    assert dataclasses.replace(knees, reps=15).set_sizes() == (5, 5, 5)
    assert "{side}" in knees.steps[0].say and 2 <= knees.steps[0].hold_s <= 5
    # Single leg hug: one knee at a time, held a few seconds; the double hug: both knees.
    assert single.sides == ("right", "left") and single.steps[0].hold_s >= 3
    assert not double.sides and "both knees" in double.steps[0].say
    # "Start small": a few repetitions each.
    assert all(e.reps <= 3 for e in back.exercises)
    assert re.search(r"pain, stop", back.intro), back.intro
    assert back.rest_s == 10.0


def test_the_builtin_routine_names_only_exercises_of_its_source():
    source = {line.lower() for line in SOURCE_EXERCISES.read_text().splitlines() if not line.startswith("#")}
    names = [exercise.name for exercise in load_routine("back-pain").exercises]
    assert names and all(name.lower() in source for name in names), names


# -- real exercise texts --------------------------------------------------------------------

def exercise_db_routine(entries: list[dict]) -> str:
    """A routine (YAML text) made of real exercises: name + instructions, in two shapes."""
    exercises = []
    for index, entry in enumerate(entries):
        texts = [" ".join(t.split()) for t in entry["instructions"] if t.strip()]  # some are blank
        if index % 2:
            exercises.append({"name": entry["name"], "instructions": " ".join(texts),
                              "cue": "Begin now.", "hold": 2})
        else:
            steps = [{"say": text} for text in texts]
            steps[-1]["hold"] = "3s"
            exercises.append({"name": entry["name"], "steps": steps})
    return yaml.safe_dump({"title": "Real exercises", "rest": "5s", "exercises": exercises},
                          allow_unicode=True, sort_keys=False)


def check_real_routine(path: Path, count: int) -> None:
    loaded = load_routine(path)
    assert len(loaded.exercises) == count
    fake = FakeSynthesizer()
    timeline = build_timeline(loaded, fake.spoken_samples, lambda name: 2205, fake.sample_rate)
    announced = [t for t in timeline.spoken_texts() if t.startswith("Next exercise: ")]
    assert [t.split(": ", 1)[1] for t in announced] == [f"{e.name}. 1 repetition." for e in loaded.exercises]
    holds = [e.length for e in timeline.events if e.kind == HOLD]
    assert holds == [round(s.hold_s * 22050) for e in loaded.exercises for s in e.steps if s.hold_s]
    speech = sorted((e for e in timeline.events if e.kind == SPEECH), key=lambda e: e.start)
    assert all(a.end <= b.start for a, b in zip(speech, speech[1:]))
    assert timeline.total == max(e.end for e in timeline.events)


def test_a_few_hundred_real_exercises_load_and_plan(tmp_path):
    entries = [e for e in json.loads(EXERCISE_TEXTS.read_text()) if "".join(e["instructions"]).strip()]
    longest = max(entries, key=lambda e: len(" ".join(e["instructions"])))
    chosen = entries[::3] + [longest]
    assert len(" ".join(longest["instructions"])) > 1000  # the old limit refused real texts
    path = tmp_path / "real.yaml"
    path.write_text(exercise_db_routine(chosen))
    check_real_routine(path, len(chosen))


def test_long_synthetic_texts_load_and_plan(tmp_path):
    """Always runs: texts of the real collection's lengths, up to the longest (3214 chars)."""
    sentence = "Keep your core tight, breathe out as you lift, and lower slowly with control. "
    entries = [{"name": f"Exercise {i}: {sentence[:i % 40]}",
                "instructions": [sentence * (1 + i % 8), sentence * (i % 40 // 10 + 1)]}
               for i in range(300)]
    entries.append({"name": "Longest", "instructions": [(sentence * 42)[:3214]]})
    path = tmp_path / "long.yaml"
    path.write_text(exercise_db_routine(entries))
    check_real_routine(path, 301)


class SettingsError(InputError):
    """An error class of another format, shaped like ``RoutineError``."""

    def __init__(self, message, *, path=None, line=None, field=None):
        super().__init__(f"{field or 'settings'}: {message} ({path} line {line})")


class SettingsReader(NodeReader):
    error_type = SettingsError
    document = "a settings file"
    synonyms = {"speed": "rate"}


def test_the_node_readers_serve_another_format_with_its_own_words():
    reader = SettingsReader("config.yaml")
    node = compose("speed: 130\nrate: 0130\nlisten: yes please\nwait: 1m\n", "config.yaml")
    fields = reader.mapping(node, None, ("rate", "listen", "wait"), (), "of settings")
    assert reader.attempt(reader.whole_number, fields["rate"], "rate", 80, 300) is None
    assert reader.attempt(reader.boolean, fields["listen"], "listen") is None
    assert reader.optional(fields, "wait", None, reader.duration, 600.0) == 60.0
    assert [str(error) for error in reader.errors] == [
        "speed: unknown key; did you mean 'rate'? (config.yaml line 1)",
        "rate: 0130 has a leading zero (YAML reads it as the octal number 88); write 130, not 0130 "
        "(config.yaml line 2)",
        "listen: must be true or false, got the text 'yes please' (config.yaml line 3)"]
    assert {type(error) for error in reader.errors} == {SettingsError}
    with pytest.raises(SettingsError, match=r"^settings: a settings file must be a mapping of settings, got a list"):
        reader.mapping(compose("- rate\n", "config.yaml"), None, ("rate",), (), "of settings")
