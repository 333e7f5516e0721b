"""The JSON Schema of routine files: shipped as generated, and every routine we have fits it."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings, strategies as st

from voicecoach.cli import cli
from voicecoach.errors import RoutineError
from voicecoach.routine import parse_duration, parse_routine
from voicecoach.routine.load import BUILTIN_DIR
from voicecoach.routine.schema import SHIPPED, routine_schema, schema_text
from voicecoach.routine.vocabulary import EXERCISE_KEYS, MAX_HOLD_S, MIN_DURATION_S, ROUTINE_KEYS, STEP_KEYS

DATA = Path(__file__).parent / "data"
ROUTINES = sorted(BUILTIN_DIR.glob("*.yaml")) + sorted(DATA.glob("*.yaml"))


def test_the_shipped_schema_is_the_generated_one():
    assert SHIPPED.read_text(encoding="utf-8") == schema_text(), \
        "run: python3 -m voicecoach.routine.schema --write"


def test_schema_prints_the_shipped_file():
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == routine_schema()


def test_the_schema_names_every_key_of_the_vocabulary():
    schema = routine_schema()
    assert tuple(schema["properties"]) == ROUTINE_KEYS
    assert tuple(schema["$defs"]["exercise"]["properties"]) == EXERCISE_KEYS
    assert tuple(schema["$defs"]["step"]["properties"]) == STEP_KEYS
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", ROUTINES, ids=lambda p: p.name)
def test_every_routine_we_ship_or_test_with_fits_the_schema(path):
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), routine_schema())


@pytest.mark.parametrize("text", [
    "title: x\nexercises:\n  - name: a\n    hlod: 2s\n",
    "title: x\nexercises: []\n",
    "exercises:\n  - name: a\n",
    "title: x\nexercises:\n  - name: a\n    reps: 0\n",
    "title: x\nexercises:\n  - name: a\n    hold: two seconds\n",
])
def test_the_schema_flags_what_the_validator_refuses(text):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), routine_schema())


# -- one definition of a duration: what check accepts, the schema accepts, and no more ------

def _accepted_by_check(hold) -> bool:
    try:
        parse_routine(f"title: x\nexercises:\n  - name: a\n    cue: Go\n    hold: {json.dumps(hold)}\n")
    except RoutineError:
        return False
    return True


def _accepted_by_schema(hold) -> bool:
    routine = {"title": "x", "exercises": [{"name": "a", "cue": "Go", "hold": hold}]}
    return jsonschema.Draft202012Validator(routine_schema()).is_valid(routine)


def _written_durations():
    """Durations as people write them (units in every spelling and case, spaces, signs) and
    the slips near them; every magnitude is inside a hold's limits, which are the validator's."""
    seconds = ["s", "S", "sec", "Sec", "SECS", "second", "Seconds", "secss", "sek", "ss", ""]
    minutes = ["m", "M", "min", "MIN", "mins", "minute", "Minutes", "mn", "h"]
    written = [f"{sign}{space}2{gap}{unit}{end}" for sign in ("", "+", "-", "+ ", "++")
               for space in ("", " ") for gap in ("", " ", "\t") for unit in seconds for end in ("", " ", "\n")]
    written += [f"1{unit}{gap}{rest}" for unit in minutes for gap in ("", " ")
                for rest in ("", "30s", "30 sec", "30", "1.5S", "x")]
    written += ["1M30S", "1 min 30 sec", "1 Minute 5 Seconds", "1.5 s", "1.5s", ".5s", "1.s", "1,5s", "1e1", "２s", "2\u00a0s", "2ms", "30s1m", "1m 30s 2s",
                "", " ", "s", "nan", "inf", "0x10", "1:30", "2 h", "9.99", "599", "0.5", "10m",
                "0", "00", "0s", "0.0 s", "0m0s", "0m 30s", "+0"]
    return written


def test_every_duration_check_accepts_the_schema_accepts_and_no_other():
    written = _written_durations()
    assert len(written) > 900
    differ = [text for text in written if _accepted_by_check(text) != _accepted_by_schema(text)]
    assert differ == []
    accepted = [text for text in written if _accepted_by_check(text)]
    assert {"2S", "1M30S", "+2s", "2 Seconds", "1 min 30 sec", "1.5 s"} <= set(accepted)
    assert 100 < len(accepted) < len(written) - 100  # both ways were tried


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789.+- \tmsecondiuth", max_size=14) | st.floats(0.5, 600) |
       st.integers(-5, 700) | st.floats(allow_nan=False, allow_infinity=False))
def test_a_random_duration_is_accepted_by_both_or_neither(hold):
    try:
        magnitude = parse_duration(hold)
    except ValueError:
        magnitude = None
    if magnitude is not None and not MIN_DURATION_S <= magnitude <= MAX_HOLD_S:
        # a duration out of range: the validator's to refuse, in words; a number the schema's too
        assert not _accepted_by_check(hold)
        return
    assert _accepted_by_check(hold) == _accepted_by_schema(hold) == (magnitude is not None)


@pytest.mark.parametrize("code, accepted", [("de", True), ("DE", True), ("En", True), (" de ", True),
                                            ("fr", False), ("deu", False), ("d e", False)])
def test_the_schema_takes_the_languages_check_takes(code, accepted):
    text = f"title: x\nlanguage: {json.dumps(code)}\nexercises:\n  - name: a\n"
    try:
        parse_routine(text)
        checked = True
    except RoutineError:
        checked = False
    schema_ok = jsonschema.Draft202012Validator(routine_schema()).is_valid(yaml.safe_load(text))
    assert checked == schema_ok == accepted
