"""Bad input, all of it: the corpus in tests/broken/, bad files made here (empty, a folder,
missing, enormous, deeply nested, alias bombs), and fuzzing of the loader.

Each corpus file starts with ``# expect: Error: ...``, the exact line ``voicecoach check``
must print for it (``{path}`` stands for the path given on the command line). The test
copies the corpus to a temporary folder and adds what should not be committed: WAV files
made from known samples and a symlink that leads outside the folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
import wave
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.cli import cli
from voicecoach.errors import RoutineError
from voicecoach.routine import load_routine, parse_routine
from voicecoach.routine.vocabulary import CHIME_NAMES, EXERCISE_KEYS, MAX_FILE_BYTES, ROUTINE_KEYS, STEP_KEYS
from voicecoach.routine.soundfiles import wav_problem
from voicecoach.plan.timeline import build_timeline, script

HERE = Path(__file__).parent
BROKEN = HERE / "broken"
CASES = sorted(p.name for p in BROKEN.glob("*.yaml"))
VALID = [HERE.parent / "voicecoach" / "routine" / "builtin" / "back-pain.yaml", *sorted((HERE / "data").glob("*.yaml"))]


def write_wav(path: Path, *, width: int = 2, frames: int = 2205) -> Path:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(width)
        out.setframerate(22050)
        out.writeframes(bytes((i * 7) % 251 for i in range(frames * width)))
    return path


def check(path) -> "click.testing.Result":  # noqa: F821
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click 8.2 keeps stderr apart by itself
        runner = CliRunner()
    return runner.invoke(cli, ["check", str(path)])


def assert_refused(path, expected: str) -> None:
    """Exit 2, nothing on stdout, exactly the one expected line on stderr, no traceback."""
    result = check(path)
    assert isinstance(result.exception, SystemExit), result.exception
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == expected + "\n"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(BROKEN, root / "broken")
    write_wav(root / "broken" / "eight-bit.wav", width=1)
    write_wav(root / "broken" / "no-frames.wav", frames=0)
    write_wav(root / "outside.wav")  # a perfectly good WAV, but outside the routine's folder
    (root / "broken" / "link-outside.wav").symlink_to(root / "outside.wav")
    return root / "broken"


def expectation(path: Path) -> str:
    first = path.read_bytes().split(b"\n", 1)[0].decode()
    assert first.startswith("# expect: Error: "), f"{path.name} has no '# expect: Error: ...' first line"
    return first[len("# expect: "):]


def test_the_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.parametrize("name", CASES)
def test_each_broken_routine_is_refused_with_its_line(corpus, name):
    path = corpus / name
    assert_refused(path, expectation(path).replace("{path}", str(path)))


# -- bad files made here --------------------------------------------------------------------

def test_an_empty_file(tmp_path):
    (tmp_path / "empty.yaml").write_bytes(b"")
    assert_refused(tmp_path / "empty.yaml",
                   f"Error: the routine file is empty; a routine needs at least a title and exercises ({tmp_path / 'empty.yaml'})")


def test_a_directory(tmp_path):
    assert_refused(tmp_path, f"Error: is a directory; give a routine file (.yaml) ({tmp_path})")


def test_a_missing_file(tmp_path):
    assert_refused(tmp_path / "nope.yaml", f"Error: no such file or built-in routine ({tmp_path / 'nope.yaml'})")


def test_an_enormous_file_is_refused_unread(tmp_path):
    huge = tmp_path / "huge.yaml"
    line = b"  - name: Lift\n    cue: Lift your arm slowly, then lower it.\n"
    huge.write_bytes(b"title: Huge\nexercises:\n" + line * (MAX_FILE_BYTES // len(line) + 1))
    assert huge.stat().st_size > MAX_FILE_BYTES
    assert_refused(huge, f"Error: is larger than 1 MB; a routine file should be a few kilobytes ({huge})")


def test_deep_nesting_is_refused_at_the_limit(tmp_path):
    deep = tmp_path / "deep.yaml"
    deep.write_text("title: x\nexercises: " + "[" * 200_000 + "]" * 200_000 + "\n")
    assert_refused(deep, f"Error: is nested more than 20 levels deep; a routine needs 6 ({deep} line 2)")


def billion_laughs(levels: int, width: int) -> str:
    lines = ["title: Laughs", "exercises:", "  - name: lol", "    cue: lol"]
    lines.append('l0: &l0 ["lol"]')
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels, width", [(10, 10), (40, 40)])
def test_alias_bombs_are_refused_in_bounded_memory(tmp_path, levels, width):
    """Expanded, these would hold 10**9 and 40**39 strings; they must stop at the first alias."""
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs(levels, width))
    tracemalloc.start()
    try:
        with pytest.raises(RoutineError) as caught:
            load_routine(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert str(caught.value) == ("YAML aliases (*name) are not supported; write the value out in full "
                                 f"({bomb} line 6)")
    assert peak < 2_000_000, f"refusing the bomb took {peak} bytes"


@pytest.mark.parametrize("name", ["08-yaml-alias-bomb.yaml", "81-not-utf8.yaml", "10-yaml-deep-nesting.yaml"])
def test_the_real_command_prints_one_line_and_no_traceback(name):
    path = BROKEN / name
    done = subprocess.run([sys.executable, "-m", "voicecoach", "check", str(path)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr == expectation(path).replace("{path}", str(path)) + "\n"


# -- fuzzing ----------------------------------------------------------------------------------

def load_or_refuse(raw) -> None:
    """The loader's whole contract: a usable routine, or one RoutineError line."""
    try:
        routine = parse_routine(raw, name="fuzz.yaml")
    except RoutineError as error:
        for each in [error, *getattr(error, "errors", ())]:  # all that ``check`` lists
            assert str(each) and "\n" not in str(each) and "\r" not in str(each), repr(str(each))
        lines = [each.line or 0 for each in getattr(error, "errors", ())]
        assert lines == sorted(lines)
        return
    timeline = build_timeline(routine, lambda text: 100 * len(text.split()), lambda name: 50, 22050)
    assert set(timeline.spoken_texts()) <= set(script(routine))


FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
KEYS = st.sampled_from(sorted(set(ROUTINE_KEYS + EXERCISE_KEYS + STEP_KEYS + CHIME_NAMES))) | st.text(max_size=8)
SCALARS = (st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats() | st.text(max_size=40)
           | st.sampled_from(["2s", "1m30s", "0.5", "-1s", ".inf", "{side}", "{{x}}", "left", "yes", "~", ""]))
VALUES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
                      max_leaves=25)
EXERCISE_LIKE = st.dictionaries(st.sampled_from(EXERCISE_KEYS), VALUES, max_size=7)
ROUTINE_LIKE = st.fixed_dictionaries(
    {"title": VALUES, "exercises": st.lists(EXERCISE_LIKE | VALUES, max_size=3)},
    optional={"rest": VALUES, "intro": VALUES, "outro": VALUES, "sounds": VALUES})


@settings(FUZZ, max_examples=100)
@given(ROUTINE_LIKE | VALUES)
def test_random_yaml_documents_load_or_are_refused(document):
    load_or_refuse(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_load_or_are_refused(raw):
    load_or_refuse(raw)


YAML_BITS = st.sampled_from(["\t", ":", ": ", "- ", "{", "}", "[", "]", "&a ", "*a", "!!str ", "!x ", "---\n",
                             "? ", "#", "'", '"', "\\", "\n", "  ", "|\n", ">-\n", "%", "@", "\x00", "\ufeff",
                             "\u2028", "{side}", "-1", "0", ".nan", "9" * 30, "é"])


@st.composite
def mutated(draw) -> bytes:
    """A valid routine with a few random edits: deletions, insertions, swapped lines."""
    text = draw(st.sampled_from(VALID)).read_text()
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.integers(0, len(text)))
        action = draw(st.sampled_from(["insert", "delete", "swap", "indent"]))
        if action == "insert":
            text = text[:where] + draw(YAML_BITS | st.text(max_size=5)) + text[where:]
        elif action == "delete":
            text = text[:where] + text[where + draw(st.integers(1, 40)):]
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if action == "swap":
                lines[i], lines[j] = lines[j], lines[i]
            else:
                lines[i] = " " * draw(st.integers(0, 5)) + lines[i].lstrip(" ")
            text = "\n".join(lines)
    return text.encode("utf-8", "surrogatepass")


@FUZZ
@given(mutated())
def test_mutated_valid_routines_load_or_are_refused(raw):
    load_or_refuse(raw)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=64), st.integers(0, 44))
def test_damaged_wav_files_are_reported_never_raised(tail, cut):
    with tempfile.TemporaryDirectory() as folder:
        header = write_wav(Path(folder) / "ok.wav").read_bytes()[:44]
        path = Path(folder) / "damaged.wav"
        path.write_bytes(header[:cut] + tail)
        problem = wav_problem(path)
        assert problem is None or ("\n" not in problem and problem)
