"""Validation: walks the YAML node tree (``yamlsafe``) and builds the frozen ``Routine``.

Every error names the file, the line, the field, what is wrong and what would be right, in
one line; the words it checks against are in ``vocabulary``.
"""

from __future__ import annotations

import datetime
import difflib
import re
import string
import unicodedata
from pathlib import Path

import yaml

from ..errors import RoutineError
from ..text import clip
from .durations import DURATION_HINT, format_duration, parse_duration
from .model import Exercise, Routine, Step
from .soundfiles import check_sound_file
from .vocabulary import (CHIME_NAMES, DEFAULT_LANGUAGE, EXERCISE_KEYS, MAX_CUES, MAX_EXERCISES,
                         MAX_HOLD_S, MAX_NAME_CHARS, MAX_REPS, MAX_REST_S, MAX_SETS, MAX_SIDES,
                         MAX_TEXT_CHARS, MAX_TIMED_S, MIN_DURATION_S, MISSING, PLACEHOLDERS,
                         ROUTINE_KEYS, SHAPES, SHORTHAND, STEP_KEYS, SYNONYMS)


class Builder:
    """Walks the node tree; each method validates one level and names its field."""

    def __init__(self, name: str, folder: Path | None):
        self.name, self.folder = name, folder
        self.loader = yaml.SafeLoader("")

    def error(self, node, field_path: str | None, message: str) -> RoutineError:
        line = node.start_mark.line + 1 if node is not None else None
        return RoutineError(message, path=self.name, line=line, field=field_path)

    def routine(self, node) -> Routine:
        fields = self.mapping(node, None, ROUTINE_KEYS, ("title", "exercises"), SHAPES[None])
        exercises_node = fields["exercises"]
        if not isinstance(exercises_node, yaml.SequenceNode):
            raise self.error(exercises_node, "exercises",
                             f"must be a list of exercises, got {self.kind(exercises_node)}")
        if not exercises_node.value:
            raise self.error(exercises_node, "exercises", "must list at least one exercise")
        if len(exercises_node.value) > MAX_EXERCISES:
            raise self.error(exercises_node, "exercises",
                             f"has {len(exercises_node.value)} exercises; at most {MAX_EXERCISES}")
        title = self.text(fields["title"], "title", MAX_NAME_CHARS)
        rest_s = self.optional_duration(fields, "rest", MAX_REST_S)
        exercises = tuple(self.exercise(item, f"exercises[{i}]")
                          for i, item in enumerate(exercises_node.value))
        self.check_size(exercises, exercises_node.value, rest_s)
        return Routine(
            title=title,
            exercises=exercises,
            intro=self.optional_text(fields, "intro", None),
            outro=self.optional_text(fields, "outro", None),
            language=self.language(fields.get("language")),
            rest_s=rest_s,
            sounds=self.sounds(fields.get("sounds")),
            source=self.name,
            folder=self.folder,
        )

    def exercise(self, node, where: str) -> Exercise:
        fields = self.mapping(node, where, EXERCISE_KEYS, ("name",), SHAPES["exercise"])
        sides = self.sides(fields.get("sides"), f"{where}.sides")
        sets = self.count(fields.get("sets"), f"{where}.sets", MAX_SETS)
        if "rest_between_sets" in fields and sets == 1:
            raise self.error(fields["rest_between_sets"], f"{where}.rest_between_sets",
                             "needs sets: 2 or more (there is only one set); add sets or drop it")
        return Exercise(
            name=self.text(fields["name"], f"{where}.name", MAX_NAME_CHARS),
            steps=self.steps(fields, where, sides),
            instructions=self.optional_text(fields, "instructions", None, where),
            reps=self.count(fields.get("reps"), f"{where}.reps", MAX_REPS),
            sets=sets,
            rest_between_sets_s=self.optional_duration(fields, "rest_between_sets", MAX_REST_S, where),
            sides=sides,
        )

    def steps(self, fields: dict, where: str, sides: tuple[str, ...]) -> tuple[Step, ...]:
        shorthand = [key for key in SHORTHAND if key in fields]
        if "steps" in fields:
            if shorthand:
                key = shorthand[0]
                raise self.error(fields[key], f"{where}.{key}",
                                 "cannot be used together with steps; put it inside a step "
                                 "(say/hold/release) or drop steps")
            node = fields["steps"]
            if not isinstance(node, yaml.SequenceNode):
                raise self.error(node, f"{where}.steps", f"must be a list of steps, got {self.kind(node)}")
            if not node.value:
                raise self.error(node, f"{where}.steps", "must list at least one step")
            return tuple(self.step(item, f"{where}.steps[{i}]", sides)
                         for i, item in enumerate(node.value))
        if not shorthand:
            raise self.error(fields["name"], where,
                             "needs steps, or a cue and/or hold, to say what one rep is")
        if "cue" not in fields and "hold" not in fields:
            key = shorthand[0]
            raise self.error(fields[key], f"{where}.cue", f"is required when {key} is given without hold")
        say = self.text(fields["cue"], f"{where}.cue", sides=sides) if "cue" in fields else None
        return (self.make_step(fields, where, sides, say),)

    def step(self, node, where: str, sides: tuple[str, ...]) -> Step:
        fields = self.mapping(node, where, STEP_KEYS, ("say",), SHAPES["step"])
        return self.make_step(fields, where, sides, self.text(fields["say"], f"{where}.say", sides=sides))

    def make_step(self, fields: dict, where: str, sides: tuple[str, ...], say: str) -> Step:
        if "count" in fields and "hold" not in fields:
            raise self.error(fields["count"], f"{where}.count", "only applies to a hold "
                             "(it counts down its last seconds); add hold or drop count")
        release = fields.get("release")
        return Step(
            say=say,
            hold_s=self.optional_duration(fields, "hold", MAX_HOLD_S, where),
            release=None if release is None else self.text(release, f"{where}.release", sides=sides),
            count=self.boolean(fields["count"], f"{where}.count") if "count" in fields else True,
        )

    def sides(self, node, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, where, f"must be a list such as [left, right], got {self.kind(node)}")
        if not node.value:
            raise self.error(node, where, "must name at least one side, e.g. [left, right]")
        if len(node.value) > MAX_SIDES:
            raise self.error(node, where, f"has {len(node.value)} sides; at most {MAX_SIDES}")
        names = tuple(self.text(item, f"{where}[{i}]", MAX_NAME_CHARS)
                      for i, item in enumerate(node.value))
        if len(set(n.lower() for n in names)) != len(names):
            raise self.error(node, where, "names the same side twice")
        return names

    def check_size(self, exercises: tuple[Exercise, ...], nodes: list, rest_s: float | None) -> None:
        """Refuse sessions no one can do (and no disk should hold), naming the exercise."""
        cues, timed = 0, 0.0
        for index, (exercise, node) in enumerate(zip(exercises, nodes)):
            rounds = exercise.reps * exercise.sets * max(1, len(exercise.sides))
            cues += rounds * len(exercise.steps)
            timed += rounds * sum(step.hold_s or 0 for step in exercise.steps)
            timed += (exercise.sets - 1) * (exercise.rest_between_sets_s or 0)
            timed += (rest_s or 0) if index else 0
            if cues > MAX_CUES:
                raise self.error(node, f"exercises[{index}]", f"makes the session {cues} cues long; "
                                 f"at most {MAX_CUES}: use fewer reps, sets or exercises")
            if timed > MAX_TIMED_S:
                raise self.error(node, f"exercises[{index}]", f"makes the session's holds and rests "
                                 f"{timed / 3600:.1f} hours long; at most {MAX_TIMED_S / 3600:g} hours: "
                                 "use fewer reps, sets or shorter holds")

    # -- sound files -------------------------------------------------------------------

    def sounds(self, node) -> tuple[tuple[str, Path], ...]:
        if node is None:
            return ()
        fields = self.mapping(node, "sounds", CHIME_NAMES, (), SHAPES["sounds"])
        result = []
        for key, value in fields.items():
            where = f"sounds.{key}"
            text = self.text(value, where)
            if self.folder is None:
                raise self.error(value, where, "sound files can only be used in a routine file")
            try:
                result.append((key, check_sound_file(self.folder, text)))
            except ValueError as error:
                raise self.error(value, where, str(error)) from None
        return tuple(result)

    # -- scalars -----------------------------------------------------------------------

    def mapping(self, node, where: str | None, allowed, required, shape: str) -> dict:
        if not isinstance(node, yaml.MappingNode):
            subject = "" if where else "a routine "
            raise self.error(node, where, f"{subject}must be a mapping {shape}, got {self.kind(node)}")
        fields: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or not key.strip():
                raise self.error(key_node, where, f"has a key that is not a name: {self.kind(key_node)}")
            shown = key if re.fullmatch(r"[\w-]{1,40}", key) else repr(clip(key))
            path = f"{where}.{shown}" if where else shown
            if key in fields:
                raise self.error(key_node, path, "is given twice; keep one")
            if key not in allowed:
                hint = (_suggest(key, allowed) or _synonym(key, allowed)
                        or f"; allowed keys: {', '.join(allowed)}")
                raise self.error(key_node, path, f"unknown key{hint}")
            fields[key] = value_node
        for key in required:
            if key not in fields:
                raise self.error(node, f"{where}.{key}" if where else key,
                                 f"is required but missing; {MISSING.get(key, 'add it')}")
        return fields

    def text(self, node, where: str, limit: int = MAX_TEXT_CHARS,
             sides: tuple[str, ...] | None = None) -> str:
        """Normalised text. ``sides`` given: a template that may use ``{side}`` (kept as
        written); not given: plain text, returned with doubled braces undone."""
        value = self.scalar(node)
        if isinstance(value, (int, float, datetime.date)) and not isinstance(value, bool):
            value = node.value  # a bare number or date is fine as text ("Set 2")
        if not isinstance(value, str):
            raise self.error(node, where, f"must be text, got {self.kind(node)}")
        value = " ".join(value.split())
        if not value:
            raise self.error(node, where, "must not be empty")
        if len(value) > limit:
            raise self.error(node, where, f"is {len(value)} characters long; at most {limit}")
        control = next((c for c in value if unicodedata.category(c) in ("Cc", "Cs")), None)
        if control is not None:
            raise self.error(node, where, f"contains the character U+{ord(control):04X}, "
                             "which is not text; remove it")
        literal = self.check_placeholders(node, where, value, sides)
        return value if sides is not None else literal

    def check_placeholders(self, node, where: str, value: str, sides) -> str:
        """Refuse any ``{...}`` but a plain ``{side}`` where allowed; return the literal text."""
        try:
            parts = list(string.Formatter().parse(value))
        except ValueError:
            raise self.error(node, where, "has an unmatched { or }; write {side}, "
                             "or double a brace ({{ or }}) to say it") from None
        for _, name, spec, conversion in parts:
            if name is None:
                continue
            if name not in PLACEHOLDERS or spec or conversion:
                shown = clip("{" + name + (f"!{conversion}" if conversion else "") +
                              (f":{spec}" if spec else "") + "}")
                raise self.error(node, where, f"unknown placeholder {shown}; the only one is {{side}}")
            if sides is None:
                raise self.error(node, where, "cannot use {side} here; only cue, say and release can")
            if not sides:
                raise self.error(node, where, "uses {side} but the exercise has no sides; "
                                 "add sides: [left, right]")
        return "".join(literal for literal, *_ in parts)

    def optional_text(self, fields: dict, key: str, default, where: str | None = None):
        if key not in fields:
            return default
        return self.text(fields[key], f"{where}.{key}" if where else key)

    def optional_duration(self, fields: dict, key: str, maximum: float, where: str | None = None):
        if key not in fields:
            return None
        node = fields[key]
        path = f"{where}.{key}" if where else key
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, path, f"must be {DURATION_HINT}, got {self.kind(node)}")
        try:
            seconds = parse_duration(self.scalar(node))
        except ValueError as error:
            raise self.error(node, path, str(error)) from None
        if seconds > maximum:
            raise self.error(node, path, f"must be at most {format_duration(maximum)}, "
                             f"got {clip(node.value)}")
        if seconds < MIN_DURATION_S:
            raise self.error(node, path, f"must be at least {MIN_DURATION_S:g}s, got {clip(node.value)}")
        return round(seconds, 6)

    def count(self, node, where: str, maximum: int) -> int:
        if node is None:
            return 1
        value = self.scalar(node)
        expected = f"must be a whole number from 1 to {maximum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, where, f"{expected}, got {self.kind(node)}")
        if not 1 <= value <= maximum:
            raise self.error(node, where, f"{expected}, got {clip(str(value))}")
        return value

    def language(self, node) -> str:
        """A language code such as ``en`` or ``de``: which phrase pack speaks the session
        (whether that pack exists is checked where the packs are, in ``plan.phrases``)."""
        if node is None:
            return DEFAULT_LANGUAGE
        value = self.scalar(node)
        if not isinstance(value, str) or not re.fullmatch(r"[a-z]{2,3}", value.strip().lower()):
            raise self.error(node, "language", f"must be a language code such as en or de, got {self.kind(node)}")
        return value.strip().lower()

    def boolean(self, node, where: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, where, f"must be true or false, got {self.kind(node)}")
        return value

    def scalar(self, node):
        if not isinstance(node, yaml.ScalarNode):
            return node  # callers report the kind
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError, AttributeError):
            return node.value  # e.g. an int too long to convert, a date like 2024-13-45

    def kind(self, node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        return _describe(self.scalar(node))


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {clip(str(value))}"
    if isinstance(value, str):
        return f"the text {clip(value)!r}"
    return type(value).__name__




def _suggest(word: str, choices) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def _synonym(word: str, allowed) -> str:
    target = SYNONYMS.get(word.lower())
    return f"; did you mean {target!r}?" if target in allowed else ""
