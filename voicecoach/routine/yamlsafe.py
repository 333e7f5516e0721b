"""Routine text -> a YAML node tree with line marks, refusing what a routine never needs.

Only PyYAML's safe loader is used, and before anything is built it refuses aliases (so
"billion laughs" documents fail at the first ``*name``, in bounded memory), tags that
would construct other types (``!!python/...``, ``!!binary``), nesting deeper than any
routine, and characters YAML does not allow. Every refusal is a one-line ``RoutineError``
with the line; the routine module validates the tree itself.
"""

from __future__ import annotations

import re

import yaml

from ..errors import RoutineError
from ..text import clip

MAX_DEPTH = 20  # a routine nests 6 levels; deeper is not a routine, and is refused early
_CORE = "tag:yaml.org,2002:"
_PLAIN = {"flow sequence": "[...] list", "flow mapping": "{...} mapping", "quoted scalar": "quoted text",
          "block mapping": "mapping", "block collection": "list", "plain scalar": "text"}
_ALLOWED_TAGS = {_CORE + name for name in ("str", "int", "float", "bool", "null", "map", "seq")}


class _GuardedLoader(yaml.SafeLoader):
    """A safe loader whose composer checks every node's event before composing it."""

    depth = 0

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent):
            raise RoutineError("YAML aliases (*name) are not supported; write the value out in full",
                               path=self.name, line=line)
        tag = getattr(event, "tag", None)
        if tag not in (None, "!") and tag not in _ALLOWED_TAGS:
            shown = "!!" + tag[len(_CORE):] if tag.startswith(_CORE) else tag
            raise RoutineError(f"YAML tag {clip(shown)} is not supported; remove it",
                               path=self.name, line=line)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise RoutineError(f"is nested more than {MAX_DEPTH} levels deep; a routine needs 6",
                               path=self.name, line=line)
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def compose(raw: bytes | str, name: str) -> yaml.Node | None:
    """The single document's node tree (None when empty), or a ``RoutineError``."""
    text = _decode(raw, name)
    loader = None
    try:
        loader = _GuardedLoader(text)  # the reader checks every character right here
        loader.name = name
        return loader.get_single_node()
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        raise RoutineError(f"contains the character U+{error.character:04X}, which YAML does not "
                           "allow; remove it", path=name, line=line) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        raise RoutineError(f"YAML syntax error: {_problem(error)}", path=name,
                           line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as error:
        raise RoutineError(f"YAML error: {one_line(str(error))}", path=name) from None
    except RecursionError:  # a last resort only: MAX_DEPTH stops nesting long before
        raise RoutineError("is nested too deeply to be a routine", path=name) from None
    finally:
        if loader is not None:
            loader.dispose()


def _decode(raw: bytes | str, name: str) -> str:
    if isinstance(raw, str):
        return raw
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise RoutineError(f"is not UTF-8 text (byte 0x{raw[error.start]:02X} at column {column}); "
                           "save it as UTF-8", path=name, line=line) from None


def _problem(error: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem in words a routine author knows, with where the open part began."""
    problem = one_line(error.problem or "is not valid YAML")
    if "\\t" in problem or "tab" in problem.lower():
        return "tab character; indent YAML with spaces, not tabs"
    if "another document" in problem:
        return "a second document (---); a routine file holds one"
    if problem.startswith("expected <block end>"):
        return "the indentation does not line up; keys of one mapping start in the same column"
    if problem == "mapping values are not allowed here":
        return "unexpected ':'; put text that contains ': ' in quotes, or fix the indentation"
    context, start, end = error.context, error.context_mark, error.problem_mark
    if context and start and end and start.line != end.line:
        thing = re.sub(r"^while (parsing|scanning) an? ", "", context)
        problem += f", in the {_PLAIN.get(thing, thing)} that starts on line {start.line + 1}"
    return problem


def one_line(text: str) -> str:
    """``text`` with every run of whitespace, newlines included, made one space."""
    return " ".join(text.split())
