"""The routine format as JSON Schema (draft 2020-12), made from ``vocabulary``, so that
editors with a YAML language server complete keys and flag mistakes as you type:

    # yaml-language-server: $schema=<path or URL of routine.schema.json>

The schema is shipped as ``routine.schema.json`` (``voicecoach schema`` prints it); a test
checks that it is what ``routine_schema()`` makes. It describes the shape only: the
validator's one-line errors remain the judge (limits across keys, placeholders, files).

    python -m voicecoach.routine.schema --write   # after changing the vocabulary
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..plan.rhythm import MAX_PER_WEEK, MIN_PER_WEEK
from .durations import DURATION_HINT
from .vocabulary import (CHIME_NAMES, EXERCISE_FIELDS, MAX_EXERCISES, MAX_HOLD_S, MAX_NAME_CHARS, MAX_REPS,
                         MAX_SETS, MAX_SIDES, MAX_TEXT_CHARS, MIN_DURATION_S, ROUTINE_FIELDS, STEP_FIELDS)

SHIPPED = Path(__file__).with_name("routine.schema.json")
# 2s, 1.5s, 90s, 1m, 1m30s (as the validator reads them), or a bare number of seconds
_DURATION_PATTERN = r"^\s*\d+(\.\d+)?\s*(s(ec(ond)?s?)?|m(in(ute)?s?)?(\s*\d+(\.\d+)?\s*s(ec(ond)?s?)?)?)?\s*$"


def _kinds() -> dict[str, dict]:
    text = {"type": ["string", "number"], "minLength": 1, "maxLength": MAX_TEXT_CHARS}
    name = {"type": ["string", "number"], "minLength": 1, "maxLength": MAX_NAME_CHARS}
    count = {"type": "integer", "minimum": 1, "maximum": MAX_SETS}
    return {
        "text": text, "name": name,
        "language": {"type": "string", "pattern": "^[a-z]{2,3}$"},
        "duration": {"oneOf": [{"type": "number", "minimum": MIN_DURATION_S, "maximum": MAX_HOLD_S * 3},
                               {"type": "string", "pattern": _DURATION_PATTERN}],
                     "description": f"A duration: {DURATION_HINT}."},
        "count": count,
        "reps": {"oneOf": [{"type": "integer", "minimum": 1, "maximum": MAX_REPS},
                           {"type": "object", "additionalProperties": False, "required": ["start", "max"],
                            "properties": {"start": {"type": "integer", "minimum": 1, "maximum": MAX_REPS},
                                           "max": {"type": "integer", "minimum": 1, "maximum": MAX_REPS},
                                           "per_set": {"type": "integer", "minimum": 1, "maximum": MAX_REPS}}}]},
        "flag": {"type": "boolean"},
        "sides": {"type": "array", "items": name, "minItems": 1, "maxItems": MAX_SIDES, "uniqueItems": True},
        "exercises": {"type": "array", "items": {"$ref": "#/$defs/exercise"}, "minItems": 1,
                      "maxItems": MAX_EXERCISES},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
        "schedule": {"type": "object", "additionalProperties": False, "required": ["per_week"],
                     "properties": {"per_week": {"type": "integer", "minimum": MIN_PER_WEEK,
                                                 "maximum": MAX_PER_WEEK}}},
        "sounds": {"type": "object", "additionalProperties": False,
                   "properties": {chime: {"type": "string", "minLength": 1} for chime in CHIME_NAMES}},
    }


def _object(fields: dict, required: list[str]) -> dict:
    kinds = _kinds()
    properties = {key: {**kinds[kind], "description": what} for key, (kind, what) in fields.items()}
    return {"type": "object", "additionalProperties": False, "required": required, "properties": properties}


def routine_schema() -> dict:
    """The JSON Schema of a routine file."""
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema",
              "$id": "https://voicecoach.invalid/routine.schema.json",
              "title": "voicecoach routine",
              "description": "An exercise routine that voicecoach speaks, live or as an audio file.",
              **_object(ROUTINE_FIELDS, ["title", "exercises"])}
    schema["$defs"] = {"exercise": _object(EXERCISE_FIELDS, ["name"]), "step": _object(STEP_FIELDS, ["say"])}
    return schema


def schema_text() -> str:
    return json.dumps(routine_schema(), indent=2, ensure_ascii=False) + "\n"


def shipped_schema_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        SHIPPED.write_text(schema_text(), encoding="utf-8")
    else:
        sys.stdout.write(schema_text())
