"""Where an export goes: its format, whether it can be written at all (checked before any
synthesis), and the temporaries beside each destination that are renamed into place
together once everything is written.

Every file appears only when complete: it is written to a temporary beside it
(``.NAME.voicecoach-partial-PID``) and renamed into place, together with the transcript
and timeline, once all of them are written. Temporaries of a process that was killed
outright are removed by the next export into that folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from ..errors import InputError
from ..routine import Routine
from ..session.chimes import chime_paths
from ..signals import signals_held
from .ffmpeg import FFMPEG_FORMATS, find_ffmpeg
from .subtitles import transcript_format

FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "opus", ".m4a": "m4a"}
PARTIAL = ".voicecoach-partial-"
_PARTIAL_NAME = re.compile(r"^\..+" + re.escape(PARTIAL) + r"(\d+)(\.[a-z]+)?$")


def audio_format(output: Path) -> str:
    """The format for ``output``'s extension, or an ``InputError`` naming the supported ones."""
    fmt = FORMATS.get(Path(output).suffix.lower())
    if fmt is None:
        suffix = Path(output).suffix or "(no extension)"
        raise InputError(f"-o: unknown audio format {suffix!r} in {str(output)!r}; "
                         f"use one of {', '.join(FORMATS)}")
    return fmt


def check_destination(output: Path, transcript: Path | None = None,
                      timeline_path: Path | None = None, routine: Routine | None = None) -> None:
    """Refuse now, before any synthesis, an export that could not be written.

    Bad names, an output that is the ``routine``'s file or one of the sound files it
    plays (the shipped chimes included), folders that do not exist or cannot be written
    raise ``InputError`` (exit 2); a missing encoder raises ``ExportError``. Also removes
    the temporaries that killed exports left in those folders.
    """
    fmt = audio_format(output)
    if transcript is not None:
        transcript_format(transcript)
    if timeline_path is not None and Path(timeline_path).suffix.lower() != ".json":
        raise InputError(f"--timeline: the timeline is JSON, so its name must end in .json; "
                         f"got {str(timeline_path)!r}")
    named = [("-o", Path(output)), ("--transcript", transcript), ("--timeline", timeline_path)]
    named = [(option, Path(path)) for option, path in named if path is not None]
    inputs, seen = _inputs(routine), {}
    for option, path in named:
        key = path.resolve()
        if key in inputs:
            raise InputError(f"{option}: {str(path)!r} is {inputs[key]}; give another name")
        if key in seen:
            raise InputError(f"{option}: {str(path)!r} is also given to {seen[key]}; give each its own file")
        seen[key] = option
        _check_writable(option, path)
    if fmt in FFMPEG_FORMATS:
        find_ffmpeg(fmt)


def _inputs(routine: Routine | None) -> dict[Path, str]:
    """The files the export reads, which it must not write: resolved path -> what it is."""
    inputs: dict[Path, str] = {}
    if routine is None:
        return inputs
    if routine.path is not None:
        inputs[Path(routine.path).resolve()] = "the routine being exported"
    own = dict(routine.sounds)
    for name, path in chime_paths(routine).items():
        what = f"the routine's sound file sounds.{name}" if name in own else f"the shipped {name} chime"
        inputs[Path(path).resolve()] = what
    return inputs



def _check_writable(option: str, path: Path) -> None:
    if path.is_dir():
        raise InputError(f"{option}: {str(path)!r} is a folder; give a file name inside it")
    if path.exists() and not path.is_file():
        raise InputError(f"{option}: {str(path)!r} exists and is not a regular file; give another name")
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{option}: the folder {str(folder)!r} does not exist; create it first")
    remove_stale_partials(folder)
    probe = partial_path(path, ".probe")
    try:  # os.access() says yes to root even on a read-only file system: really try
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.unlink(probe)
    except OSError as error:
        raise InputError(f"{option}: cannot write in {str(folder)!r}: {error.strerror}") from None


def partial_path(final: Path, suffix: str = "") -> Path:
    """The temporary beside ``final`` that this process writes."""
    return final.with_name(f".{final.name}{PARTIAL}{os.getpid()}{suffix}")


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove temporaries in ``folder`` whose export process is gone; return them."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            match = _PARTIAL_NAME.match(entry.name)
            if match and entry.is_file(follow_symlinks=False) and not _alive(int(match[1])):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # ours from an earlier process with the same id: we are not writing yet
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's live process
    return True


class Temporaries:
    """The temporaries beside each destination, renamed into place together on ``commit``.

    Leaving the ``with`` block without a commit removes them all.
    """

    def __init__(self):
        self.pending: list[tuple[Path, Path | None]] = []

    def new(self, final: Path, scratch_suffix: str = "") -> Path:
        """Create (exclusively) the temporary for ``final``; a suffix makes a scratch file."""
        temporary = partial_path(final, scratch_suffix)
        os.close(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        self.pending.append((temporary, None if scratch_suffix else final))
        return temporary

    def commit(self, last: Path) -> None:
        """Rename every temporary into place, ``last`` (the audio) last: its presence
        says the export finished. Signals wait until all are renamed."""
        finals = [(temporary, final) for temporary, final in self.pending if final is not None]
        for temporary, _ in finals:
            with open(temporary, "rb+") as handle:
                os.fsync(handle.fileno())  # a full disk can still show up here
        finals.sort(key=lambda pair: pair[1] == last)  # stable: the others keep their order
        with signals_held():
            for temporary, final in finals:
                os.replace(temporary, final)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for temporary, _ in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)



def disk_error(error: OSError, output: Path) -> str:
    """The one line for a failed write: what, and that nothing was written."""
    reason = "the disk is full" if error.errno == 28 else error.strerror or str(error)
    return f"could not write {str(output)!r}: {reason}; nothing was written"
