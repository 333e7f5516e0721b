"""Validation: walks the YAML node tree (``yamlsafe``) and builds the frozen ``Routine``.

Every error names the file, the line, the field, what is wrong and what would be right, in
one line; the words it checks against are in ``vocabulary``.
"""

from __future__ import annotations

import dataclasses
import datetime
import difflib
import re
import string
import unicodedata
from pathlib import Path

import yaml

from ..errors import RoutineError, RoutineErrors
from ..text import clip
from .durations import DURATION_HINT, format_duration, parse_duration
from .model import Exercise, Routine, Step
from .soundfiles import check_sound_file
from .vocabulary import (CHIME_NAMES, DEFAULT_LANGUAGE, EXERCISE_KEYS, MAX_CUES, MAX_EXERCISES,
                         MAX_HOLD_S, MAX_NAME_CHARS, MAX_REPS, MAX_REST_S, MAX_SETS, MAX_SIDES,
                         MAX_SOUNDED_CHARS_PER_S, MAX_TEXT_CHARS, MAX_TIMED_S, MIN_DURATION_S,
                         MISSING, PLACEHOLDERS, ROUTINE_KEYS, SHAPES, SHORTHAND, STEP_KEYS, SYNONYMS)


class _Noted(RoutineError):
    """A level stops after its errors were noted (``Builder.errors``); not itself shown."""


class Builder:
    """Walks the node tree; each method validates one level and names its field.

    Errors are collected, not raised at the first: each field is checked on its own
    (``attempt``), so ``check`` can name everything wrong in one run. A wrong or doubled key
    is noted and left out; a mapping that misses a key it needs stops there (its siblings go
    on); ``build`` raises ``RoutineErrors`` with all of them, in line order.
    """

    def __init__(self, name: str, folder: Path | None):
        self.name, self.folder = name, folder
        self.loader = yaml.SafeLoader("")
        self.errors: list[RoutineError] = []

    def error(self, node, field_path: str | None, message: str) -> RoutineError:
        line = node.start_mark.line + 1 if node is not None else None
        return RoutineError(message, path=self.name, line=line, field=field_path)

    def build(self, node) -> Routine:
        """The routine, or ``RoutineErrors`` naming every error found."""
        routine = self.attempt(self.routine, node)
        if self.errors:
            raise RoutineErrors(self.errors)
        return routine

    def attempt(self, check, *args, default=None):
        """``check(*args)``, or ``default`` once its error is noted: the walk goes on."""
        try:
            return check(*args)
        except _Noted:
            return default
        except RoutineError as error:
            self.errors.append(error)
            return default

    def routine(self, node) -> Routine:
        # without a title or exercises, the rest is still checked
        fields = self.mapping(node, None, ROUTINE_KEYS, ("title", "exercises"), SHAPES[None], partial=True)
        items = self.attempt(self.exercise_nodes, fields["exercises"], default=[]) if "exercises" in fields else []
        title = self.attempt(self.text, fields["title"], "title", MAX_NAME_CHARS) if "title" in fields else None
        rest_s = self.attempt(self.optional_duration, fields, "rest", MAX_REST_S)
        exercises = tuple(self.attempt(self.exercise, item, f"exercises[{i}]")
                          for i, item in enumerate(items))
        if not self.errors:  # the sizes of valid exercises only
            self.check_size(exercises, items, rest_s)
        return Routine(
            title=title,
            exercises=exercises,
            intro=self.attempt(self.optional_text, fields, "intro", None),
            outro=self.attempt(self.optional_text, fields, "outro", None),
            language=self.attempt(self.language, fields.get("language"), default=DEFAULT_LANGUAGE),
            rest_s=rest_s,
            sounds=self.attempt(self.sounds, fields.get("sounds"), default=()),
            source=self.name,
            folder=self.folder,
        )

    def exercise_nodes(self, exercises_node) -> list:
        if not isinstance(exercises_node, yaml.SequenceNode):
            raise self.error(exercises_node, "exercises",
                             f"must be a list of exercises, got {self.kind(exercises_node)}")
        if not exercises_node.value:
            raise self.error(exercises_node, "exercises", "must list at least one exercise")
        if len(exercises_node.value) > MAX_EXERCISES:
            raise self.error(exercises_node, "exercises",
                             f"has {len(exercises_node.value)} exercises; at most {MAX_EXERCISES}")
        return exercises_node.value

    def exercise(self, node, where: str) -> Exercise:
        fields = self.mapping(node, where, EXERCISE_KEYS, ("name",), SHAPES["exercise"])
        sides = self.attempt(self.sides, fields.get("sides"), f"{where}.sides")
        sets = self.attempt(self.count, fields.get("sets"), f"{where}.sets", MAX_SETS)
        reps, reps_range, per_set = self.attempt(self.reps, fields.get("reps"), f"{where}.reps",
                                                 default=(None, None, None))
        if per_set is not None and "sets" in fields:
            self.errors.append(self.error(fields["sets"], f"{where}.sets", "cannot be used with reps.per_set, "
                               "which makes the sets from the reps; drop one of them"))
        if "rest_between_sets" in fields and sets == 1 and per_set is None and reps is not None:
            self.errors.append(self.error(fields["rest_between_sets"], f"{where}.rest_between_sets",
                               "needs sets: 2 or more (there is only one set); add sets or drop it"))
        alternate = self.attempt(self.boolean, fields["alternate"], f"{where}.alternate",
                                 default=False) if "alternate" in fields else False
        if alternate and sides is not None and len(sides) < 2:
            self.errors.append(self.error(fields["alternate"], f"{where}.alternate", "needs sides "
                               "to alternate between, e.g. sides: [right, left]; add them or drop alternate"))
        return Exercise(
            name=self.attempt(self.text, fields["name"], f"{where}.name", MAX_NAME_CHARS),
            # with sides that are wrong, {side} is let through: its own errors are the sides'
            steps=self.attempt(self.steps, fields, where, ("side",) if sides is None else sides, default=()),
            instructions=self.attempt(self.optional_text, fields, "instructions", None, where),
            reps=reps,
            sets=sets,
            rest_between_sets_s=self.attempt(self.optional_duration, fields, "rest_between_sets",
                                             MAX_REST_S, where),
            sides=sides,
            reps_range=reps_range,
            per_set=per_set,
            alternate=alternate,
        )

    def reps(self, node, where: str) -> tuple[int, tuple[int, int] | None, int | None]:
        """(reps, (start, max) or None, per_set or None): a number is fixed reps; a mapping
        ``{start: 2, max: 15, per_set: 5}`` reps that build up (``plan.progression``)."""
        if not isinstance(node, yaml.MappingNode):
            return self.count(node, where, MAX_REPS), None, None
        fields = self.mapping(node, where, ("start", "max", "per_set"), ("start", "max"),
                              "with start: and max: (and optionally per_set:)")
        start = self.count(fields["start"], f"{where}.start", MAX_REPS)
        maximum = self.count(fields["max"], f"{where}.max", MAX_REPS)
        if maximum < start:
            raise self.error(fields["max"], f"{where}.max", f"must be at least start ({start}), "
                             f"got {maximum}")
        per_set = self.count(fields["per_set"], f"{where}.per_set", MAX_REPS) if "per_set" in fields else None
        return start, (start, maximum), per_set

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
            return tuple(self.attempt(self.step, item, f"{where}.steps[{i}]", sides)
                         for i, item in enumerate(node.value))
        if not shorthand:  # a name alone: the name is the instruction, said once a rep
            try:
                name = self.text(fields["name"], f"{where}.name", MAX_NAME_CHARS)
            except RoutineError:
                return ()  # the name's own check reports it
            return (Step(say=name.replace("{", "{{").replace("}", "}}")),)
        if "cue" not in fields and "hold" not in fields:
            key = shorthand[0]
            raise self.error(fields[key], f"{where}.cue", f"is required when {key} is given without hold")
        say = self.attempt(self.text, fields["cue"], f"{where}.cue", MAX_TEXT_CHARS, sides) if "cue" in fields else None
        return (self.make_step(fields, where, sides, say),)

    def step(self, node, where: str, sides: tuple[str, ...]) -> Step:
        fields = self.mapping(node, where, STEP_KEYS, ("say",), SHAPES["step"])
        return self.make_step(fields, where, sides,
                              self.attempt(self.text, fields["say"], f"{where}.say", MAX_TEXT_CHARS, sides))

    def make_step(self, fields: dict, where: str, sides: tuple[str, ...], say: str) -> Step:
        if "count" in fields and "hold" not in fields:
            self.errors.append(self.error(fields["count"], f"{where}.count", "only applies to a hold "
                               "(it counts down its last seconds); add hold or drop count"))
        release = fields.get("release")
        return Step(
            say=say,
            hold_s=self.attempt(self.optional_duration, fields, "hold", MAX_HOLD_S, where),
            release=None if release is None else self.attempt(self.text, release, f"{where}.release",
                                                              MAX_TEXT_CHARS, sides),
            count=self.attempt(self.boolean, fields["count"], f"{where}.count") if "count" in fields else True,
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
        cues, timed, spoken = 0, 0.0, 0
        for index, (exercise, node) in enumerate(zip(exercises, nodes)):
            most = exercise.reps_range[1] if exercise.reps_range else exercise.reps
            sets = dataclasses.replace(exercise, reps=most).set_sizes()  # at its highest level
            rounds = sum(sets) * max(1, len(exercise.sides))
            cues += rounds * len(exercise.steps)
            timed += rounds * sum(step.hold_s or 0 for step in exercise.steps)
            timed += (len(sets) - 1) * (exercise.rest_between_sets_s or 0)
            timed += (rest_s or 0) if index else 0
            spoken += rounds * sum(sounded_chars(text.replace("{side}", "")) for step in exercise.steps
                                   for text in (step.say or "", step.release or ""))
            spoken += sounded_chars(exercise.name) + sounded_chars(exercise.instructions or "")
            if cues > MAX_CUES:
                raise self.error(node, f"exercises[{index}]", f"makes the session {cues} cues long; "
                                 f"at most {MAX_CUES}: use fewer reps, sets or exercises")
            if timed > MAX_TIMED_S:
                raise self.error(node, f"exercises[{index}]", f"makes the session's holds and rests "
                                 f"{timed / 3600:.1f} hours long; at most {MAX_TIMED_S / 3600:g} hours: "
                                 "use fewer reps, sets or shorter holds")
            # Speech as well, at the fastest any voice speaks (so this never refuses too much);
            # prepare() checks again with the real lengths once the speech is made.
            least_s = timed + spoken / MAX_SOUNDED_CHARS_PER_S
            if least_s > MAX_TIMED_S:
                raise self.error(node, f"exercises[{index}]", f"makes the session at least "
                                 f"{least_s / 3600:.1f} hours long with its speech; at most "
                                 f"{MAX_TIMED_S / 3600:g} hours: use fewer reps, sets or shorter texts")

    # -- sound files -------------------------------------------------------------------

    def sounds(self, node) -> tuple[tuple[str, Path], ...]:
        if node is None:
            return ()
        fields = self.mapping(node, "sounds", CHIME_NAMES, (), SHAPES["sounds"])
        found = (self.attempt(self.sound, key, value) for key, value in fields.items())
        return tuple(sound for sound in found if sound is not None)

    def sound(self, key: str, value) -> tuple[str, Path]:
        where = f"sounds.{key}"
        text = self.text(value, where)
        if self.folder is None:
            raise self.error(value, where, "sound files can only be used in a routine file")
        try:
            return key, check_sound_file(self.folder, text)
        except ValueError as error:
            raise self.error(value, where, str(error)) from None

    # -- scalars -----------------------------------------------------------------------

    def mapping(self, node, where: str | None, allowed, required, shape: str, partial: bool = False) -> dict:
        """The fields by key. A missing ``required`` key is noted and stops the caller
        (``_Noted``), unless ``partial``: then the caller checks what is there."""
        if not isinstance(node, yaml.MappingNode):
            subject = "" if where else "a routine "
            raise self.error(node, where, f"{subject}must be a mapping {shape}, got {self.kind(node)}")
        fields: dict = {}
        meant = set()  # keys an unknown one was taken for: not also "missing"
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str) or not key.strip():
                self.errors.append(self.error(key_node, where, f"has a key that is not a name: {self.kind(key_node)}"))
                continue
            shown = key if re.fullmatch(r"[\w-]{1,40}", key) else repr(clip(key))
            path = f"{where}.{shown}" if where else shown
            if key in fields:
                self.errors.append(self.error(key_node, path, "is given twice; keep one"))
                continue
            if key not in allowed:
                hint = (_suggest(key, allowed) or _synonym(key, allowed)
                        or f"; allowed keys: {', '.join(allowed)}")
                self.errors.append(self.error(key_node, path, f"unknown key{hint}"))
                meant.update(difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6))
                meant.add(SYNONYMS.get(key.lower()))
                continue
            fields[key] = value_node
        for key in required:
            if key not in fields and key not in meant:
                self.errors.append(self.error(node, f"{where}.{key}" if where else key,
                                   f"is required but missing; {MISSING.get(key, 'add it')}"))
        if not partial and any(key not in fields for key in required):
            raise _Noted("")
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
        if not sounded_chars(literal) and not (sides and "{side}" in value):
            raise self.error(node, where, "says nothing aloud: it has no letters or digits; "
                             "write the words to say")
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
        self.check_number_form(node, path, duration=True)
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
        self.check_number_form(node, where, duration=False)
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

    def check_number_form(self, node, where: str, duration: bool) -> None:
        """Refuse the numbers YAML 1.1 reads otherwise than people mean them: ``010`` is 8
        (octal), ``0x10`` 16, ``0b11`` 3 and ``1:30`` 90 (base 60); say what to write."""
        if isinstance(node, yaml.ScalarNode) and node.style is None:
            problem = _number_form_problem(node.value.strip(), duration)
            if problem:
                raise self.error(node, where, problem)

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




_LEADING_ZERO = re.compile(r"([-+]?)0[0-9_]+")
_BASES = {"0x": (16, "a hexadecimal number"), "0b": (2, "a binary number")}
_BASE_60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def _number_form_problem(text: str, duration: bool) -> str | None:
    """Why ``text`` (a plain YAML scalar) is not read as the number it looks like, and what
    to write instead; None for an ordinary number."""
    shown = clip(text)
    if _LEADING_ZERO.fullmatch(text):
        meant = _LEADING_ZERO.fullmatch(text).group(1) + (text.lstrip("+-").replace("_", "").lstrip("0") or "0")
        digits = text.lstrip("+-").replace("_", "")
        why = (f"YAML reads it as the octal number {int(digits, 8)}" if set(digits) <= set("01234567")
               else "YAML reads it as text")
        return f"{shown} has a leading zero ({why}); write {meant}, not {shown}"
    body = text.lstrip("+-").lower()
    for prefix, (base, name) in _BASES.items():
        if body.startswith(prefix) and len(body) > 2:
            try:
                value = int(body[2:].replace("_", ""), base)
            except ValueError:
                return None
            return f"{shown} is {name} ({value}) in YAML; write {value}, not {shown}"
    if _BASE_60.fullmatch(text):
        if not duration:
            return f"{shown} is a time (YAML reads it in base 60); write a whole number such as 10, not {shown}"
        seconds = 0.0
        for part in text.lstrip("+-").replace("_", "").split(":"):
            seconds = seconds * 60 + float(part)
        minutes, rest = divmod(seconds, 60)
        meant = (f"{int(minutes)}m" if minutes else "") + (f"{rest:g}s" if rest or not minutes else "")
        return f"{shown} is read in base 60 by YAML; write {meant}, not {shown}"
    return None


def sounded_chars(text: str) -> int:
    """How many characters of ``text`` a voice sounds out: letters and digits (Unicode
    categories L* and N*, after NFKC). Zero for "...", a lone accent or U+200B."""
    return sum(unicodedata.category(c)[0] in "LN" for c in unicodedata.normalize("NFKC", text))


def _suggest(word: str, choices) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


def _synonym(word: str, allowed) -> str:
    target = SYNONYMS.get(word.lower())
    return f"; did you mean {target!r}?" if target in allowed else ""
