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

from ..plan.phrases import languages
from ..plan.rhythm import MAX_PER_WEEK, MIN_PER_WEEK
from .durations import DURATION_HINT, DURATION_PATTERN, SPACE, any_case
from .vocabulary import (CHIME_NAMES, EXERCISE_FIELDS, MAX_DURATION_S, MAX_EXERCISES, MAX_NAME_CHARS, MAX_REPS,
                         MAX_SETS, MAX_SIDES, MAX_TEXT_CHARS, MIN_DURATION_S, ROUTINE_FIELDS, STEP_FIELDS)

SHIPPED = Path(__file__).with_name("routine.schema.json")


def _kinds() -> dict[str, dict]:
    text = {"type": ["string", "number"], "minLength": 1, "maxLength": MAX_TEXT_CHARS}
    name = {"type": ["string", "number"], "minLength": 1, "maxLength": MAX_NAME_CHARS}
    count = {"type": "integer", "minimum": 1, "maximum": MAX_SETS}
    return {
        "text": text, "name": name,
        # a language with a phrase pack, in any case, as the validator reads it
        "language": {"type": "string",
                     "pattern": f"^{SPACE}({'|'.join(any_case(code) for code in languages())}){SPACE}$"},
        # the validator's own grammar (durations.DURATION_PATTERN); limits per key (_object)
        "duration": {"oneOf": [{"type": "number", "minimum": MIN_DURATION_S},
                               {"type": "string", "pattern": DURATION_PATTERN}],
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
    for key in properties.keys() & MAX_DURATION_S.keys():  # a number's limit; text is the validator's
        properties[key]["oneOf"] = [{**properties[key]["oneOf"][0], "maximum": MAX_DURATION_S[key]},
                                    properties[key]["oneOf"][1]]
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
