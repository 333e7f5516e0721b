"""Routines: YAML text -> frozen ``Routine`` objects, with every check and its message."""

from .load import (CHIME_NAMES, Exercise, Routine, Step, builtin_names, format_duration,
                   load_routine, parse_duration, parse_routine, resolve)

__all__ = ["Step", "Exercise", "Routine", "load_routine", "parse_routine", "resolve",
           "builtin_names", "parse_duration", "format_duration", "CHIME_NAMES"]
