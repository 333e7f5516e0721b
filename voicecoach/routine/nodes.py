"""Reading a YAML node tree (``yamlsafe.compose``) field by field: a scalar, a whole number,
true or false, a duration, a text, a list, a mapping of known keys with "did you mean"
hints. Every error is one line naming the file, the line, the field, what is wrong and
what would be right.

Nothing here is about routines: ``validate.Builder`` adds the routine's own rules on top,
and any other file read through ``yamlsafe`` (the user's settings) can use the same readers
with its own error class, hints and name for the whole file (``NodeReader``'s class
attributes).
"""

from __future__ import annotations

import datetime
import difflib
import re
import unicodedata
from collections.abc import Mapping
from types import MappingProxyType

import yaml

from ..errors import InputError, RoutineError
from ..text import clip
from .durations import DURATION_HINT, format_duration, parse_duration

_NO_HINTS: Mapping[str, str] = MappingProxyType({})


class Noted(Exception):
    """A level stops after its errors were noted (``NodeReader.errors``); not itself shown."""


def field_path(where: str | None, key: str) -> str:
    """The field ``key`` inside ``where`` (``exercises[0].hold``); ``key`` at the top level."""
    return f"{where}.{key}" if where else key


class NodeReader:
    """Reads nodes into values; each reader names its field in its errors.

    Errors are collected, not raised at the first: each field is checked on its own
    (``attempt``), so that one run can name everything wrong. A subclass sets the format's
    words: ``error_type`` (a class taking ``message, path=, line=, field=``), ``document``
    (the whole file, in "a routine must be a mapping"), ``synonyms`` (a word people write ->
    the key meant) and ``missing`` (a required key -> how to add it).
    """

    error_type: type[InputError] = RoutineError
    document = "the file"
    synonyms: Mapping[str, str] = _NO_HINTS
    missing: Mapping[str, str] = _NO_HINTS

    def __init__(self, name: str):
        self.name = name  # the file as errors show it
        self.loader = yaml.SafeLoader("")
        self.errors: list[InputError] = []

    def error(self, node, where: str | None, message: str) -> InputError:
        """The error at ``node``'s line, for the field ``where``."""
        line = node.start_mark.line + 1 if node is not None else None
        return self.error_type(message, path=self.name, line=line, field=where)

    def note(self, node, where: str | None, message: str) -> None:
        """Note an error and go on."""
        self.errors.append(self.error(node, where, message))

    def attempt(self, check, *args, default=None):
        """``check(*args)``, or ``default`` once its error is noted: the walk goes on."""
        try:
            return check(*args)
        except Noted:
            return default
        except self.error_type as error:
            self.errors.append(error)
            return default

    def optional(self, fields: dict, key: str, where: str | None, read, *args):
        """``read(node, path, *args)`` of ``fields[key]``; None when the key is not given."""
        if key not in fields:
            return None
        return read(fields[key], field_path(where, key), *args)

    # -- mappings and lists ------------------------------------------------------------

    def mapping(self, node, where: str | None, allowed, required, shape: str, partial: bool = False) -> dict:
        """The fields by key. A missing ``required`` key is noted and stops the caller
        (``Noted``), unless ``partial``: then the caller checks what is there. A wrong or
        doubled key is noted and left out."""
        if not isinstance(node, yaml.MappingNode):
            subject = "" if where else f"{self.document} "
            raise self.error(node, where, f"{subject}must be a mapping {shape}, got {self.kind(node)}")
        fields: dict = {}
        meant: set = set()  # keys an unknown one was taken for: not also "missing"
        for key_node, value_node in node.value:
            key = self.key(key_node, where, allowed, fields, meant)
            if key is not None:
                fields[key] = value_node
        for key in required:
            if key not in fields and key not in meant:
                self.note(node, field_path(where, key),
                          f"is required but missing; {self.missing.get(key, 'add it')}")
        if not partial and any(key not in fields for key in required):
            raise Noted("")
        return fields

    def key(self, key_node, where: str | None, allowed, fields: dict, meant: set) -> str | None:
        """The key of ``key_node``; None once it is noted as not a name, doubled or unknown
        (then ``meant`` gains the keys it may have been meant as)."""
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if not isinstance(key, str) or not key.strip():
            self.note(key_node, where, f"has a key that is not a name: {self.kind(key_node)}")
            return None
        shown = key if re.fullmatch(r"[\w-]{1,40}", key) else repr(clip(key))
        path = field_path(where, shown)
        if key in fields:
            self.note(key_node, path, "is given twice; keep one")
            return None
        if key not in allowed:
            hint = (suggest(key, allowed) or self.synonym(key, allowed)
                    or f"; allowed keys: {', '.join(allowed)}")
            self.note(key_node, path, f"unknown key{hint}")
            meant.update(difflib.get_close_matches(key, list(allowed), n=1, cutoff=0.6))
            meant.add(self.synonyms.get(key.lower()))
            return None
        return key

    def synonym(self, word: str, allowed) -> str:
        target = self.synonyms.get(word.lower())
        return f"; did you mean {target!r}?" if target in allowed else ""

    def sequence(self, node, where: str, shape: str, empty: str, most: int | None = None,
                 noun: str = "items") -> list:
        """The items of a list: ``shape`` says what it holds ("of steps"), ``empty`` is the
        error for an empty list, more than ``most`` (``noun``) are refused."""
        if not isinstance(node, yaml.SequenceNode):
            raise self.error(node, where, f"must be a list {shape}, got {self.kind(node)}")
        if not node.value:
            raise self.error(node, where, empty)
        if most is not None and len(node.value) > most:
            raise self.error(node, where, f"has {len(node.value)} {noun}; at most {most}")
        return node.value

    # -- scalars -----------------------------------------------------------------------

    def text(self, node, where: str, limit: int) -> str:
        """Text with every run of whitespace made one space: not empty, at most ``limit``
        characters, no control characters. A bare number or date is text as written."""
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
        return value

    def duration(self, node, where: str, maximum: float, minimum: float = 0.0) -> float:
        """Seconds (``durations.parse_duration``), from ``minimum`` to ``maximum``, to the µs."""
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(node, where, f"must be {DURATION_HINT}, got {self.kind(node)}")
        self.check_number_form(node, where, duration=True)
        try:
            seconds = parse_duration(self.scalar(node))
        except ValueError as error:
            raise self.error(node, where, str(error)) from None
        if seconds > maximum:
            raise self.error(node, where, f"must be at most {format_duration(maximum)}, "
                             f"got {clip(node.value)}")
        if seconds < minimum:
            raise self.error(node, where, f"must be at least {minimum:g}s, got {clip(node.value)}")
        return round(seconds, 6)

    def whole_number(self, node, where: str, minimum: int, maximum: int) -> int:
        self.check_number_form(node, where, duration=False)
        value = self.scalar(node)
        expected = f"must be a whole number from {minimum} to {maximum}"
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(node, where, f"{expected}, got {self.kind(node)}")
        if not minimum <= value <= maximum:
            raise self.error(node, where, f"{expected}, got {clip(str(value))}")
        return value

    def count(self, node, where: str, maximum: int) -> int:
        """How many times, from 1 to ``maximum``; 1 when not given (``node`` is None)."""
        return 1 if node is None else self.whole_number(node, where, 1, maximum)

    def boolean(self, node, where: str) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, where, f"must be true or false, got {self.kind(node)}")
        return value

    def check_number_form(self, node, where: str, duration: bool) -> None:
        """Refuse the numbers YAML 1.1 reads otherwise than people mean them: ``010`` is 8
        (octal), ``0x10`` 16, ``0b11`` 3 and ``1:30`` 90 (base 60); say what to write."""
        if isinstance(node, yaml.ScalarNode) and node.style is None:
            problem = number_form_problem(node.value.strip(), duration)
            if problem:
                raise self.error(node, where, problem)

    def scalar(self, node):
        """The value YAML reads from a scalar node (the node itself for any other)."""
        if not isinstance(node, yaml.ScalarNode):
            return node  # callers report the kind
        try:
            return self.loader.construct_object(node)
        except (yaml.YAMLError, ValueError, OverflowError, TypeError, AttributeError):
            return node.value  # e.g. an int too long to convert, a date like 2024-13-45

    def kind(self, node) -> str:
        """What ``node`` is, in an error's words: "a list", "the number 3"..."""
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


def suggest(word: str, choices) -> str:
    """'; did you mean ...?' with the closest of ``choices``, or ""."""
    matches = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean {matches[0]!r}?" if matches else ""


_LEADING_ZERO = re.compile(r"([-+]?)0[0-9_]+")
_BASES = {"0x": (16, "a hexadecimal number"), "0b": (2, "a binary number")}
_BASE_60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")


def number_form_problem(text: str, duration: bool) -> str | None:
    """Why ``text`` (a plain YAML scalar) is not read as the number it looks like, and what
    to write instead; None for an ordinary number."""
    if _LEADING_ZERO.fullmatch(text):
        return _leading_zero_problem(text)
    body = text.lstrip("+-").lower()
    for prefix, (base, name) in _BASES.items():
        if body.startswith(prefix) and len(body) > 2:
            try:
                value = int(body[2:].replace("_", ""), base)
            except ValueError:
                return None
            return f"{clip(text)} is {name} ({value}) in YAML; write {value}, not {clip(text)}"
    if _BASE_60.fullmatch(text):
        return _base_60_problem(text, duration)
    return None


def _leading_zero_problem(text: str) -> str:
    shown = clip(text)
    meant = _LEADING_ZERO.fullmatch(text).group(1) + (text.lstrip("+-").replace("_", "").lstrip("0") or "0")
    digits = text.lstrip("+-").replace("_", "")
    why = (f"YAML reads it as the octal number {int(digits, 8)}" if set(digits) <= set("01234567")
           else "YAML reads it as text")
    return f"{shown} has a leading zero ({why}); write {meant}, not {shown}"


def _base_60_problem(text: str, duration: bool) -> str:
    shown = clip(text)
    if not duration:
        return f"{shown} is a time (YAML reads it in base 60); write a whole number such as 10, not {shown}"
    seconds = 0.0
    for part in text.lstrip("+-").replace("_", "").split(":"):
        seconds = seconds * 60 + float(part)
    minutes, rest = divmod(seconds, 60)
    meant = (f"{int(minutes)}m" if minutes else "") + (f"{rest:g}s" if rest or not minutes else "")
    return f"{shown} is read in base 60 by YAML; write {meant}, not {shown}"
