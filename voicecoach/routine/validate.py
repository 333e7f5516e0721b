"""Validation: the routine's rules, checked on the YAML node tree (``yamlsafe``) while the
frozen ``Routine`` is built.

Every error names the file, the line, the field, what is wrong and what would be right, in
one line; the words it checks against are in ``vocabulary``, the readers of single fields
(text, numbers, durations, mappings of known keys) in ``nodes``.
"""

from __future__ import annotations

import dataclasses
import re
import string
import unicodedata
from pathlib import Path

import yaml

from ..errors import RoutineError, RoutineErrors
from ..plan.phrases import language_code, no_pack
from ..text import clip
from .model import Exercise, Routine, Step
from .nodes import NodeReader
from .schedule import read_schedule
from .soundfiles import check_sound_file
from .vocabulary import (CHIME_NAMES, DEFAULT_LANGUAGE, EXERCISE_KEYS, MAX_CUES, MAX_EXERCISES,
                         MAX_DURATION_S, MAX_NAME_CHARS, MAX_REPS, MAX_SETS, MAX_SIDES,
                         MAX_SOUNDED_CHARS_PER_S, MAX_TEXT_CHARS, MAX_TIMED_S, MIN_DURATION_S,
                         MISSING, PLACEHOLDERS, ROUTINE_KEYS, SHAPES, SHORTHAND, STEP_KEYS, SYNONYMS)


class Builder(NodeReader):
    """Walks the node tree; each method validates one level of a routine and names its field.

    As every ``NodeReader``, it collects errors: a mapping that misses a key it needs stops
    there (its siblings go on); ``build`` raises ``RoutineErrors`` with all of them, in line
    order, so ``check`` can name everything wrong in one run.
    """

    error_type = RoutineError
    document = "a routine"
    synonyms = SYNONYMS
    missing = MISSING

    def __init__(self, name: str, folder: Path | None):
        super().__init__(name)
        self.folder = folder  # where sound files are looked for; None for text not from a file

    def build(self, node) -> Routine:
        """The routine, or ``RoutineErrors`` naming every error found."""
        routine = self.attempt(self.routine, node)
        if self.errors:
            raise RoutineErrors(self.errors)
        return routine

    def routine(self, node) -> Routine:
        # without a title or exercises, the rest is still checked
        fields = self.mapping(node, None, ROUTINE_KEYS, ("title", "exercises"), SHAPES[None], partial=True)
        items = self.attempt(self.exercise_nodes, fields["exercises"], default=[]) if "exercises" in fields else []
        title = self.attempt(self.text, fields["title"], "title", MAX_NAME_CHARS) if "title" in fields else None
        rest_s = self.attempt(self.optional, fields, "rest", None, self.duration, MAX_DURATION_S["rest"],
                              MIN_DURATION_S)
        exercises = tuple(self.attempt(self.exercise, item, f"exercises[{i}]")
                          for i, item in enumerate(items))
        if not self.errors:  # the sizes of valid exercises only
            self.check_size(exercises, items, rest_s)
        return Routine(
            title=title,
            exercises=exercises,
            intro=self.attempt(self.optional, fields, "intro", None, self.text),
            outro=self.attempt(self.optional, fields, "outro", None, self.text),
            language=self.attempt(self.language, fields.get("language"), default=DEFAULT_LANGUAGE),
            rest_s=rest_s,
            sounds=self.attempt(self.sounds, fields.get("sounds"), default=()),
            per_week=self.attempt(read_schedule, self, fields["schedule"], "schedule")
            if "schedule" in fields else None,
            source=self.name,
            folder=self.folder,
        )

    def exercise_nodes(self, node) -> list:
        return self.sequence(node, "exercises", "of exercises", "must list at least one exercise",
                             MAX_EXERCISES, "exercises")

    def exercise(self, node, where: str) -> Exercise:
        fields = self.mapping(node, where, EXERCISE_KEYS, ("name",), SHAPES["exercise"])
        sides = self.attempt(self.sides, fields.get("sides"), f"{where}.sides")
        sets, (reps, reps_range, per_set) = self.sets_and_reps(fields, where)
        alternate = self.alternate(fields, where, sides)
        return Exercise(
            name=self.attempt(self.text, fields["name"], f"{where}.name", MAX_NAME_CHARS),
            # with sides that are wrong, {side} is let through: its own errors are the sides'
            steps=self.attempt(self.steps, fields, where, ("side",) if sides is None else sides, default=()),
            instructions=self.attempt(self.optional, fields, "instructions", where, self.text),
            reps=reps,
            sets=sets,
            rest_between_sets_s=self.attempt(self.optional, fields, "rest_between_sets", where,
                                             self.duration, MAX_DURATION_S["rest_between_sets"], MIN_DURATION_S),
            sides=sides,
            reps_range=reps_range,
            per_set=per_set,
            alternate=alternate,
        )

    def sets_and_reps(self, fields: dict, where: str) -> tuple:
        """(sets, (reps, reps_range, per_set)), and the rules that tie them together."""
        sets = self.attempt(self.count, fields.get("sets"), f"{where}.sets", MAX_SETS)
        reps, reps_range, per_set = self.attempt(self.reps, fields.get("reps"), f"{where}.reps",
                                                 default=(None, None, None))
        if per_set is not None and "sets" in fields:
            self.note(fields["sets"], f"{where}.sets", "cannot be used with reps.per_set, "
                      "which makes the sets from the reps; drop one of them")
        if "rest_between_sets" in fields and sets == 1 and per_set is None and reps is not None:
            self.note(fields["rest_between_sets"], f"{where}.rest_between_sets",
                      "needs sets: 2 or more (there is only one set); add sets or drop it")
        return sets, (reps, reps_range, per_set)

    def alternate(self, fields: dict, where: str, sides: tuple[str, ...] | None) -> bool:
        if "alternate" not in fields:
            return False
        alternate = self.attempt(self.boolean, fields["alternate"], f"{where}.alternate", default=False)
        if alternate and sides is not None and len(sides) < 2:
            self.note(fields["alternate"], f"{where}.alternate", "needs sides to alternate between, "
                      "e.g. sides: [right, left]; add them or drop alternate")
        return alternate

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
            items = self.sequence(fields["steps"], f"{where}.steps", "of steps", "must list at least one step")
            return tuple(self.attempt(self.step, item, f"{where}.steps[{i}]", sides)
                         for i, item in enumerate(items))
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
            self.note(fields["count"], f"{where}.count", "only applies to a hold "
                      "(it counts down its last seconds); add hold or drop count")
        release = fields.get("release")
        return Step(
            say=say,
            hold_s=self.attempt(self.optional, fields, "hold", where, self.duration, MAX_DURATION_S["hold"],
                                MIN_DURATION_S),
            release=None if release is None else self.attempt(self.text, release, f"{where}.release",
                                                              MAX_TEXT_CHARS, sides),
            count=self.attempt(self.boolean, fields["count"], f"{where}.count") if "count" in fields else True,
        )

    def sides(self, node, where: str) -> tuple[str, ...]:
        if node is None:
            return ()
        items = self.sequence(node, where, "such as [left, right]",
                              "must name at least one side, e.g. [left, right]", MAX_SIDES, "sides")
        names = tuple(self.text(item, f"{where}[{i}]", MAX_NAME_CHARS) for i, item in enumerate(items))
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

    # -- texts and the language -------------------------------------------------------

    def text(self, node, where: str, limit: int = MAX_TEXT_CHARS,
             sides: tuple[str, ...] | None = None) -> str:
        """Normalised text (``NodeReader.text``) that says something aloud. ``sides`` given:
        a template that may use ``{side}`` (kept as written); not given: plain text, returned
        with doubled braces undone."""
        value = super().text(node, where, limit)
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

    def language(self, node) -> str:
        """A language code with a phrase pack, such as ``en`` or ``de``, in any case
        (``DE`` is ``de``): which pack speaks the session's own words."""
        if node is None:
            return DEFAULT_LANGUAGE
        value = self.scalar(node)
        if not isinstance(value, str) or not re.fullmatch(r"[a-z]{2,3}", language_code(value)):
            raise self.error(node, "language", f"must be a language code such as en or de, got {self.kind(node)}")
        if no_pack(value):  # what plan and play would refuse, check names too
            raise self.error(node, "language", no_pack(value))
        return language_code(value)


def sounded_chars(text: str) -> int:
    """How many characters of ``text`` a voice sounds out: letters and digits (Unicode
    categories L* and N*, after NFKC). Zero for "...", a lone accent or U+200B."""
    return sum(unicodedata.category(c)[0] in "LN" for c in unicodedata.normalize("NFKC", text))
