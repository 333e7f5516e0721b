"""Routine files: YAML text -> frozen ``Routine`` objects, with every check and its message.

Only a safe YAML loader is used, and aliases are refused outright (a routine never needs
them, and refusing them makes "billion laughs" documents fail at once, in bounded memory).
Validation works on the composed node tree, so every error can name its line.
"""

from __future__ import annotations

import difflib
import math
import re
import string
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import RoutineError

MAX_FILE_BYTES = 1_000_000
MAX_TEXT_CHARS = 1_000
MAX_EXERCISES = 5_000
MAX_REPS = 100
MAX_SETS = 20
MAX_SIDES = 4
MAX_HOLD_S = 600.0
MAX_REST_S = 1_800.0
PLACEHOLDERS = ("side",)
CHIME_NAMES = ("start", "hold_end", "next", "end")
BUILTIN_DIR = Path(__file__).parent / "builtin"

DEFAULT_INTRO = (
    "Welcome. Find a soft spot on the floor and settle in. Move slowly and gently, "
    "and if anything hurts, stop and rest."
)
DEFAULT_OUTRO = "That is the end of the session. Well done."


@dataclass(frozen=True)
class Step:
    """One cue of a rep: spoken, then an optional timed hold, then an optional release."""

    say: str
    hold_s: float | None = None
    release: str | None = None
    count: bool = True


@dataclass(frozen=True)
class Exercise:
    """One exercise; a rep is ``steps`` in order, done ``reps`` times per side per set."""

    name: str
    steps: tuple[Step, ...]
    instructions: str | None = None
    reps: int = 1
    sets: int = 1
    rest_between_sets_s: float | None = None
    sides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routine:
    """A whole session. ``folder`` is where relative sound paths are resolved."""

    title: str
    exercises: tuple[Exercise, ...]
    intro: str = DEFAULT_INTRO
    outro: str = DEFAULT_OUTRO
    rest_s: float | None = None
    sounds: tuple[tuple[str, Path], ...] = ()
    source: str | None = None
    folder: Path | None = field(default=None, compare=False)


# -- durations -------------------------------------------------------------------------

_DURATION = re.compile(r"^\s*(?:(\d+(?:\.\d+)?)\s*m(?:in)?)?\s*(?:(\d+(?:\.\d+)?)\s*s(?:ec)?)?\s*$")


def parse_duration(value: object) -> float:
    """Seconds from ``2s``, ``1.5s``, ``90s``, ``1m``, ``1m30s`` or a bare number.

    Raises ``ValueError`` with the reason; callers add the field and line.
    """
    if isinstance(value, bool):
        raise ValueError(f"must be a duration like 2s or 1m30s, got {value!r}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        match = _DURATION.match(text)
        if text and re.fullmatch(r"-?\d+(\.\d+)?", text):
            seconds = float(text)
        elif not text or not match or not (match.group(1) or match.group(2)):
            raise ValueError(f"must be a duration like 2s, 1.5s, 1m or 1m30s, got {value!r}")
        else:
            seconds = float(match.group(1) or 0) * 60 + float(match.group(2) or 0)
    else:
        raise ValueError(f"must be a duration like 2s or 1m30s, got {_describe(value)}")
    if math.isnan(seconds) or math.isinf(seconds) or seconds <= 0:
        raise ValueError(f"must be a positive duration like 2s or 1m30s, got {_show(value)}")
    return seconds


def format_duration(seconds: float) -> str:
    """Speakable words: ``1 minute 30 seconds``, ``10 seconds``, ``1.5 seconds``."""
    minutes, rest = divmod(round(seconds, 3), 60)
    parts = []
    if minutes:
        parts.append(f"{int(minutes)} minute" + ("s" if minutes != 1 else ""))
    if rest or not parts:
        number = f"{rest:g}"
        parts.append(f"{number} second" + ("s" if number != "1" else ""))
    return " ".join(parts)


# -- loading ---------------------------------------------------------------------------

class _SafeNoAliasLoader(yaml.SafeLoader):
    """A safe loader that refuses aliases (and so merge keys) before expanding anything."""

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise RoutineError(
                "YAML aliases (*name) are not supported; write the value out in full",
                path=self.name, line=event.start_mark.line + 1, field=None)
        return super().compose_node(parent, index)


def builtin_names() -> list[str]:
    """Names of the built-in routines, e.g. ``back-pain``."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))


def resolve(source: str | Path) -> Path:
    """A built-in name or a file path -> the routine file, or a clear error."""
    text = str(source)
    if text in builtin_names():
        return BUILTIN_DIR / f"{text}.yaml"
    path = Path(text)
    if path.is_dir():
        raise RoutineError("is a directory; give a routine file (.yaml)", path=text)
    if not path.exists():
        hint = _suggest(text, builtin_names())
        if not hint and "/" not in text and not text.endswith((".yaml", ".yml")):
            hint = f"; built-in routines: {', '.join(builtin_names())}"
        raise RoutineError(f"no such file or built-in routine{hint}", path=text)
    return path


def load_routine(source: str | Path) -> Routine:
    """Load and validate a routine from a built-in name or a YAML file path."""
    path = resolve(source)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise RoutineError(f"cannot be read: {error.strerror}", path=str(source)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise RoutineError(f"is larger than {MAX_FILE_BYTES // 1_000_000} MB; "
                           "a routine file should be a few kilobytes", path=str(source))
    display = str(source) if str(source) not in builtin_names() else f"{source} (built-in)"
    return parse_routine(raw, name=display, folder=path.resolve().parent)


def parse_routine(raw: bytes | str, *, name: str = "<routine>", folder: Path | None = None) -> Routine:
    """Validate routine text (YAML) and build the frozen ``Routine``."""
    text = _decode(raw, name)
    node = _compose(text, name)
    if node is None:
        raise RoutineError("is empty; a routine needs at least a title and exercises", path=name)
    return _Builder(name, folder).routine(node)


def _decode(raw: bytes | str, name: str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise RoutineError(f"is not UTF-8 text (byte {error.start}); save it as UTF-8",
                           path=name, line=line) from None


def _compose(text: str, name: str):
    loader = _SafeNoAliasLoader(text)
    loader.name = name
    try:
        node = loader.get_single_node()
    except RoutineError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        problem = error.problem or "is not valid YAML"
        if "\\t" in problem or "tab" in problem.lower():
            problem = "tab character; indent YAML with spaces, not tabs"
        raise RoutineError(f"YAML syntax error: {problem}", path=name, line=line) from None
    except yaml.YAMLError as error:
        raise RoutineError(f"YAML error: {error}", path=name) from None
    except RecursionError:
        raise RoutineError("is nested too deeply to be a routine", path=name) from None
    finally:
        loader.dispose()
    return node


# -- validation ------------------------------------------------------------------------

_ROUTINE_KEYS = ("title", "intro", "outro", "rest", "exercises", "sounds")
_EXERCISE_KEYS = ("name", "instructions", "reps", "sets", "rest_between_sets", "sides",
                  "steps", "cue", "hold", "release", "count")
_STEP_KEYS = ("say", "hold", "release", "count")
_SHORTHAND = ("cue", "hold", "release", "count")


class _Builder:
    """Walks the node tree; each method validates one level and names its field."""

    def __init__(self, name: str, folder: Path | None):
        self.name, self.folder = name, folder
        self.loader = yaml.SafeLoader("")

    def error(self, node, field_path: str | None, message: str) -> RoutineError:
        line = node.start_mark.line + 1 if node is not None else None
        return RoutineError(message, path=self.name, line=line, field=field_path)

    def routine(self, node) -> Routine:
        fields = self.mapping(node, None, _ROUTINE_KEYS, required=("title", "exercises"))
        exercises_node = fields["exercises"]
        if not isinstance(exercises_node, yaml.SequenceNode):
            raise self.error(exercises_node, "exercises",
                             f"must be a list of exercises, got {self.kind(exercises_node)}")
        if not exercises_node.value:
            raise self.error(exercises_node, "exercises", "must list at least one exercise")
        if len(exercises_node.value) > MAX_EXERCISES:
            raise self.error(exercises_node, "exercises",
                             f"has {len(exercises_node.value)} exercises; at most {MAX_EXERCISES}")
        exercises = tuple(self.exercise(item, f"exercises[{i}]")
                          for i, item in enumerate(exercises_node.value))
        return Routine(
            title=self.text(fields["title"], "title"),
            exercises=exercises,
            intro=self.optional_text(fields, "intro", DEFAULT_INTRO),
            outro=self.optional_text(fields, "outro", DEFAULT_OUTRO),
            rest_s=self.optional_duration(fields, "rest", MAX_REST_S),
            sounds=self.sounds(fields.get("sounds")),
            source=self.name,
            folder=self.folder,
        )

    def exercise(self, node, where: str) -> Exercise:
        fields = self.mapping(node, where, _EXERCISE_KEYS, required=("name",))
        sides = self.sides(fields.get("sides"), f"{where}.sides")
        steps = self.steps(fields, where, sides)
        instructions = self.optional_text(fields, "instructions", None, where, sides)
        return Exercise(
            name=self.text(fields["name"], f"{where}.name"),
            steps=steps,
            instructions=instructions,
            reps=self.count(fields.get("reps"), f"{where}.reps", MAX_REPS),
            sets=self.count(fields.get("sets"), f"{where}.sets", MAX_SETS),
            rest_between_sets_s=self.optional_duration(fields, "rest_between_sets", MAX_REST_S, where),
            sides=sides,
        )

    def steps(self, fields: dict, where: str, sides: tuple[str, ...]) -> tuple[Step, ...]:
        shorthand = [key for key in _SHORTHAND if key in fields]
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
        cue_default = "Hold." if "hold" in fields else None
        say = self.optional_text(fields, "cue", cue_default, where, sides)
        if say is None:
            raise self.error(fields["release"] if "release" in fields else fields["count"],
                             f"{where}.cue", "is required when release or count is given without hold")
        return (self.make_step(fields, where, sides, say),)

    def step(self, node, where: str, sides: tuple[str, ...]) -> Step:
        fields = self.mapping(node, where, _STEP_KEYS, required=("say",))
        return self.make_step(fields, where, sides, self.text(fields["say"], f"{where}.say", sides))

    def make_step(self, fields: dict, where: str, sides: tuple[str, ...], say: str) -> Step:
        return Step(
            say=say,
            hold_s=self.optional_duration(fields, "hold", MAX_HOLD_S, where),
            release=self.optional_text(fields, "release", None, where, sides),
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
        names = tuple(self.text(item, f"{where}[{i}]") for i, item in enumerate(node.value))
        if len(set(n.lower() for n in names)) != len(names):
            raise self.error(node, where, "names the same side twice")
        return names

    def sounds(self, node) -> tuple[tuple[str, Path], ...]:
        if node is None:
            return ()
        fields = self.mapping(node, "sounds", CHIME_NAMES, required=())
        result = []
        for key, value in fields.items():
            where = f"sounds.{key}"
            text = self.text(value, where)
            result.append((key, self.confined_path(value, where, text)))
        return tuple(result)

    def confined_path(self, node, where: str, text: str) -> Path:
        """A path relative to the routine's folder that stays inside it (symlinks too)."""
        if self.folder is None:
            raise self.error(node, where, "sound files can only be used in a routine file")
        base = self.folder.resolve()
        candidate = (base / text).resolve()
        if Path(text).is_absolute() or not candidate.is_relative_to(base):
            raise self.error(node, where, f"must be a file inside the routine's folder {base}, got {text!r}")
        if not candidate.is_file():
            raise self.error(node, where, f"sound file {text!r} does not exist in {base}")
        return candidate

    # -- scalars -----------------------------------------------------------------------

    def mapping(self, node, where: str | None, allowed, required) -> dict:
        label = where or "routine"
        if not isinstance(node, yaml.MappingNode):
            raise self.error(node, where, f"{label} must be a mapping of keys, got {self.kind(node)}")
        fields: dict = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            path = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str):
                raise self.error(key_node, where, f"has a key that is not a name: {self.kind(key_node)}")
            if key in fields:
                raise self.error(key_node, path, "is given twice; keep one")
            if key not in allowed:
                hint = _suggest(key, allowed) or f"; allowed keys: {', '.join(allowed)}"
                raise self.error(key_node, path, f"unknown key{hint}")
            fields[key] = value_node
        for key in required:
            if key not in fields:
                raise self.error(node, f"{where}.{key}" if where else key, "is required but missing")
        return fields

    def text(self, node, where: str, sides: tuple[str, ...] | None = None) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or isinstance(node, yaml.ScalarNode) and node.tag.endswith(":null"):
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                value = node.value  # a bare number is fine as text ("Set 2")
            else:
                raise self.error(node, where, f"must be text, got {self.kind(node)}")
        value = " ".join(value.split())
        if not value:
            raise self.error(node, where, "must not be empty")
        if len(value) > MAX_TEXT_CHARS:
            raise self.error(node, where, f"is {len(value)} characters long; at most {MAX_TEXT_CHARS}")
        self.check_placeholders(node, where, value, sides)
        return value

    def check_placeholders(self, node, where: str, value: str, sides) -> None:
        try:
            names = [name for _, name, _, _ in string.Formatter().parse(value) if name is not None]
        except ValueError:
            raise self.error(node, where, "has an unmatched { or }; write {side} or double the brace") from None
        for name in names:
            if name not in PLACEHOLDERS:
                raise self.error(node, where, f"unknown placeholder {{{name}}}; the only one is {{side}}")
            if sides is not None and not sides:
                raise self.error(node, where, "uses {side} but the exercise has no sides; add sides: [left, right]")
            if sides is None:
                raise self.error(node, where, "cannot use {side} here; only exercise texts can")

    def optional_text(self, fields: dict, key: str, default, where: str | None = None, sides=None):
        if key not in fields:
            return default
        path = f"{where}.{key}" if where else key
        return self.text(fields[key], path, sides if where else None)

    def optional_duration(self, fields: dict, key: str, maximum: float, where: str | None = None):
        if key not in fields:
            return None
        node = fields[key]
        path = f"{where}.{key}" if where else key
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, path, f"must be a duration like 2s or 1m30s, got {self.kind(node)}")
        try:
            seconds = parse_duration(self.scalar(node))
        except ValueError as error:
            raise self.error(node, path, str(error)) from None
        if seconds > maximum:
            raise self.error(node, path, f"must be at most {format_duration(maximum)}, got {_show(node.value)}")
        return round(seconds, 6)

    def count(self, node, where: str, maximum: int) -> int:
        if node is None:
            return 1
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, where, f"must be a whole number from 1 to {maximum}, got {self.kind(node)}")
        if not 1 <= value <= maximum:
            raise self.error(node, where, f"must be a whole number from 1 to {maximum}, got {value}")
        return value

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
        except (yaml.YAMLError, ValueError, OverflowError):
            return node.value

    def kind(self, node) -> str:
        if isinstance(node, yaml.MappingNode):
            return "a mapping"
        if isinstance(node, yaml.SequenceNode):
            return "a list"
        value = self.scalar(node)
        return _describe(value)


def _describe(value: object) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (true/false)"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value!r}"
    return type(value).__name__


def _show(value: object) -> str:
    return str(value)


def _suggest(word: str, choices) -> str:
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""
