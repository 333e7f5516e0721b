"""The JSON Schema of routine files: shipped as generated, and every routine we have fits it."""

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from voicecoach.cli import cli
from voicecoach.routine.load import BUILTIN_DIR
from voicecoach.routine.schema import SHIPPED, routine_schema, schema_text
from voicecoach.routine.vocabulary import EXERCISE_KEYS, ROUTINE_KEYS, STEP_KEYS

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
