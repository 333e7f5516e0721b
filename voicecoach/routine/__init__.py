"""Routines: YAML text -> frozen ``Routine`` objects, with every check and its message.

``load`` finds and reads the file, ``yamlsafe`` turns it into a node tree, ``validate``
checks it against the ``vocabulary`` and builds the ``model``, reading each field with the
generic readers of ``nodes``; ``schema`` is the same vocabulary as JSON Schema, for editors.
"""

from .durations import format_duration, parse_duration
from .load import builtin_names, load_routine, parse_routine, resolve
from .model import Exercise, Routine, Step
from .vocabulary import CHIME_NAMES

__all__ = ["Step", "Exercise", "Routine", "load_routine", "parse_routine", "resolve",
           "builtin_names", "parse_duration", "format_duration", "CHIME_NAMES"]
