"""The error tree. The CLI maps each class to an exit status.

- ``VoicecoachError``: base of every error we raise on purpose.
  - ``InputError`` (exit 2): the user's input is wrong: a routine file, an option.
    - ``RoutineError``: a routine file or one of its fields is invalid.
      - ``RoutineErrors``: everything the validator found wrong in one file, in line order.
    - ``SettingsError``: the settings file (``config.yaml``) or one of its values is invalid.
  - ``RuntimeFailure`` (exit 1): the input was fine but something failed at run time.
    - ``EngineError``: the text-to-speech engine is missing or failed.
    - ``AudioDeviceError``: no sound device, or the audio server went away.
    - ``ExportError``: an audio file (or a chart) could not be written (encoder, disk, tool
      missing).
    - ``HistoryError``: the session history cannot be used: the file is corrupt or was written
      by a newer voicecoach (the file is never changed).
      - ``HistoryUnavailable``: the history cannot be written here (data folder unwritable);
        the caller warns in one line and the session still plays.
        - ``HistoryBusy``: another program holds the history's lock (waited for, then this).
    - ``UserDirUnavailable``: a user folder (cache, state, data) cannot be made or used;
      callers that can do without it (the speech cache, the saved place) warn and go on.
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
        super().__init__(_placed(message, path, line, field))


class RoutineErrors(RoutineError):
    """Every error found in one routine file, in line order (``errors``). ``str`` is the
    first, one line as for any error; ``voicecoach check`` prints them all."""

    def __init__(self, errors: list[RoutineError]):
        self.errors = sorted(errors, key=lambda error: error.line or 0)  # stable: walk order
        first = self.errors[0]
        self.path, self.line, self.field = first.path, first.line, first.field
        InputError.__init__(self, str(first))


class SettingsError(InputError):
    """The settings file is invalid. The message names the setting, the fix, file and line,
    as a routine's error does."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 field: str | None = None):
        self.path, self.line, self.field = path, line, field
        super().__init__(_placed(message, path, line, field))


def _placed(message: str, path: str | None, line: int | None, field: str | None) -> str:
    """``field: message (path line N)``, each part only when known."""
    where = f"{field}: " if field else ""
    place = f" ({path} line {line})" if path and line else f" ({path})" if path else ""
    return f"{where}{message}{place}"


class RuntimeFailure(VoicecoachError):
    """Valid input, failed run: exit status 1."""

    exit_code = 1


class EngineError(RuntimeFailure):
    """The speech engine is missing or failed."""


class AudioDeviceError(RuntimeFailure):
    """No sound device, or the audio server stopped mid-session."""


class ExportError(RuntimeFailure):
    """An export could not be written; the destination was left untouched."""


class HistoryError(RuntimeFailure):
    """The history file cannot be used; the message names the file and what to do.

    The file is left exactly as it was: never repaired, replaced or migrated.
    """


class HistoryUnavailable(HistoryError):
    """The history cannot be written (data folder or file not writable, disk full).

    Not fatal to a session: the caller shows one warning line and plays on.
    """


class HistoryBusy(HistoryUnavailable):
    """Another program held the history's lock for longer than we wait; the file is fine."""


class UserDirUnavailable(RuntimeFailure, OSError):
    """A user folder cannot be created (HOME not writable, ``XDG_CACHE_HOME`` a file...).

    Also an ``OSError``, so code that already does without a folder it cannot write keeps
    doing so; the message names the folder and the variable that moves it.
    """
