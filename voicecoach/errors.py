"""The error tree. The CLI maps each class to an exit status.

- ``VoicecoachError``: base of every error we raise on purpose.
  - ``InputError`` (exit 2): the user's input is wrong: a routine file, an option.
    - ``RoutineError``: a routine file or one of its fields is invalid.
  - ``RuntimeFailure`` (exit 1): the input was fine but something failed at run time.
    - ``EngineError``: the text-to-speech engine is missing or failed.
    - ``AudioDeviceError``: no sound device, or the audio server went away.
    - ``ExportError``: an audio file could not be written (encoder, disk, tool missing).
"""

from __future__ import annotations


class VoicecoachError(Exception):
    """Base class: ``str(error)`` is the one line shown after ``Error:``."""

    exit_code = 1


class InputError(VoicecoachError):
    """Bad input from the user: exit status 2."""

    exit_code = 2


class RoutineError(InputError):
    """A routine is invalid. The message names file, line, field and the fix."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field = path, line, field
        where = ""
        if field:
            where = f"{field}: "
        place = ""
        if path and line:
            place = f" ({path} line {line})"
        elif path:
            place = f" ({path})"
        super().__init__(f"{where}{message}{place}")


class RuntimeFailure(VoicecoachError):
    """Valid input, failed run: exit status 1."""

    exit_code = 1


class EngineError(RuntimeFailure):
    """The speech engine is missing or failed."""


class AudioDeviceError(RuntimeFailure):
    """No sound device, or the audio server stopped mid-session."""


class ExportError(RuntimeFailure):
    """An export could not be written; the destination was left untouched."""
