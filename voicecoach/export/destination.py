"""Where an export goes: its format, whether it can be written at all (checked before any
synthesis), and the temporaries beside each destination that are renamed into place
together once everything is written.

Every file appears only when complete: it is written to a temporary beside it
(``.voicecoach-partial-<12 hex digits>``, short whatever the final name's length) and
renamed into place, together with the transcript and timeline, once all of them are
written. Each temporary is locked (``flock``) by the export writing it for as long as it
exists, so the next export into that folder removes exactly the temporaries nobody holds:
those of a process killed outright, on this machine or another sharing the folder (NFS),
where a process id would mean nothing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import secrets
import stat
from pathlib import Path

from ..errors import ExportError, InputError
from ..routine import Routine
from ..session.chimes import chime_paths
from ..signals import signals_held
from ..text import clip
from .ffmpeg import FFMPEG_FORMATS, find_ffmpeg
from .subtitles import transcript_format

FORMATS = {".wav": "wav", ".mp3": "mp3", ".ogg": "ogg", ".opus": "opus", ".m4a": "m4a"}
PARTIAL = ".voicecoach-partial-"
_PARTIAL_NAME = re.compile("^" + re.escape(PARTIAL) + r"[0-9a-f]{12}(\.[a-z]+)?$")
_KEPT = ".voicecoach-kept-"  # a companion's old file, set aside while the audio is renamed


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
    _check_name_lengths(option, path)
    if path.is_dir():
        raise InputError(f"{option}: {str(path)!r} is a folder; give a file name inside it")
    if path.exists() and not path.is_file():
        raise InputError(f"{option}: {str(path)!r} exists and is not a regular file; give another name")
    folder = written_path(path).parent
    if not folder.is_dir():
        blocker = next((p for p in folder.parents if p.exists()), None) if not folder.exists() else folder
        if blocker is not None and not blocker.is_dir():
            raise InputError(f"{option}: {str(blocker)!r} is a file, not a folder; give a path "
                             "through folders")
        raise InputError(f"{option}: the folder {str(folder)!r} does not exist; create it first")
    remove_stale_partials(folder)
    probe = partial_path(folder / path.name, ".probe")
    try:  # os.access() says yes to root even on a read-only file system: really try
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        with contextlib.suppress(FileNotFoundError):  # (another export's clean-up may be quicker)
            os.unlink(probe)
    except OSError as error:
        raise InputError(f"{option}: cannot write in {str(folder)!r}: {error.strerror}") from None


def _check_name_lengths(option: str, path: Path) -> None:
    """A name longer than the file system takes (255 bytes on nearly all) is one line."""
    try:
        limit = os.pathconf(next((p for p in path.parents if p.is_dir()), Path(".")), "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            raise InputError(f"{option}: the name {clip(part)!r} is too long ({size} bytes; a name "
                             f"here has at most {limit}); give a shorter one")


def written_path(path: Path) -> Path:
    """The file an export to ``path`` writes: a symbolic link's target (as the shell's ``>``
    and editors do: the link stays a link and names the new content), else ``path``."""
    return Path(os.path.realpath(path)) if os.path.islink(path) else Path(path)


def partial_path(final: Path, suffix: str = "") -> Path:
    """A new temporary's name beside ``final``: short (the final name may use all of the
    255 bytes a name may have) and unique across processes and hosts."""
    return final.with_name(f"{PARTIAL}{secrets.token_hex(6)}{suffix}")


def remove_stale_partials(folder: Path) -> list[Path]:
    """Remove the temporaries in ``folder`` that no export holds locked; return them."""
    removed = []
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for entry in entries:
            if (_PARTIAL_NAME.match(entry.name) and entry.is_file(follow_symlinks=False)
                    and _remove_if_abandoned(Path(entry.path))):
                removed.append(Path(entry.path))
    return removed


def _remove_if_abandoned(path: Path) -> bool:
    """Remove ``path`` if its lock can be taken: its writer is gone (a lock dies with its
    process, whichever host it ran on). Anything not provably abandoned stays."""
    try:  # for writing: NFS emulates flock with a write lock, which needs it
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if not _is_at(fd, path):
            return False  # renamed into place or removed meanwhile
        os.unlink(path)
        return True
    except OSError:  # held (EWOULDBLOCK), or no locks here: not provably abandoned
        return False
    finally:
        os.close(fd)


def _is_at(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        here = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _create_locked(path: Path) -> int:
    """Create ``path`` exclusively and lock it; the open, locked descriptor. A clean-up can
    only take a file in the instant before it is locked: then it is made again."""
    for attempt in range(5):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)  # the umask applies
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)  # waits only while a clean-up looks at it
            except OSError:  # no locks on this file system: no clean-up can take it either
                return fd
            if attempt == 4 or _is_at(fd, path):  # (a file system whose inodes never match: so be it)
                return fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise AssertionError("unreachable")


class _Temporary:
    def __init__(self, path: Path, final: Path | None, target: Path | None, fd: int):
        self.path, self.final, self.target, self.fd = path, final, target, fd


class Temporaries:
    """The temporaries beside each destination, renamed into place together on ``commit``.

    Each is held locked while it exists. Leaving the ``with`` block without a commit
    removes them all.
    """

    def __init__(self):
        self.pending: list[_Temporary] = []

    def new(self, final: Path, scratch_suffix: str = "") -> Path:
        """Create (exclusively) the temporary for ``final``; a suffix makes a scratch file.
        A new file's mode is what the umask makes of 0666, as for any file a program
        creates; one replacing a file gets that file's mode (and owner, where allowed)."""
        target = written_path(Path(final))
        temporary = partial_path(target, scratch_suffix)
        fd = _create_locked(temporary)
        self.pending.append(_Temporary(temporary, None if scratch_suffix else Path(final),
                                       None if scratch_suffix else target, fd))
        return temporary

    def commit(self, last: Path) -> None:
        """Rename every temporary into place, ``last`` (the audio) last: its presence
        says the export finished. Signals wait until all are renamed. Should a rename
        fail, the files already renamed are put back as they were: the companions'
        old files are kept aside until the audio is in place."""
        finals = [t for t in self.pending if t.final is not None]
        for temporary in finals:
            _keep_mode_and_owner(temporary.fd, temporary.target)
            os.fsync(temporary.fd)  # a full disk can still show up here
        finals.sort(key=lambda t: t.final == Path(last))  # stable: the others keep their order
        with signals_held():
            done: list[tuple[Path, Path | None]] = []
            try:
                for temporary in finals:
                    kept = None if temporary.final == Path(last) else _set_aside(temporary.target)
                    try:
                        os.replace(temporary.path, temporary.target)
                    except BaseException:
                        if kept is not None:
                            os.replace(kept, temporary.target)
                        raise
                    done.append((temporary.target, kept))
            except BaseException:
                for target, kept in reversed(done):
                    with contextlib.suppress(OSError):
                        if kept is not None:
                            os.replace(kept, target)
                        else:
                            os.unlink(target)
                raise
            for _, kept in done:
                if kept is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(kept)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for temporary in self.pending:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary.path)  # still locked: no clean-up can be confused
            os.close(temporary.fd)
        self.pending = []


def _keep_mode_and_owner(fd: int, final: Path) -> None:
    """Give the temporary the mode (and owner) of the file it replaces, if there is one."""
    try:
        old = os.stat(final)
    except OSError:
        return
    new = os.fstat(fd)
    if (old.st_uid, old.st_gid) != (new.st_uid, new.st_gid):
        with contextlib.suppress(OSError):  # only root may give a file away
            os.fchown(fd, old.st_uid, old.st_gid)
    os.fchmod(fd, stat.S_IMODE(old.st_mode))


def _set_aside(final: Path) -> Path | None:
    """Keep ``final``'s present file under a name beside it (a hard link: ``final`` never
    goes missing), so it can be put back; None if there is none. The name is not one the
    clean-up removes: a kill in this instant leaves the old file kept, not lost."""
    kept = final.with_name(f"{_KEPT}{secrets.token_hex(6)}")
    try:
        os.link(final, kept, follow_symlinks=False)
    except FileNotFoundError:
        return None
    except OSError as error:  # a file system without hard links: move it aside instead
        if error.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOTSUP):
            raise
        os.replace(final, kept)
    return kept



def disk_error(error: OSError, output: Path) -> str:
    """The one line for a failed write: what, and that nothing was written."""
    reason = "the disk is full" if error.errno == 28 else error.strerror or str(error)
    return f"could not write {str(output)!r}: {reason}; nothing was written"


def write_document(path: Path, data: bytes) -> None:
    """``data`` as the file ``path`` (a report, a chart: an ordinary 0644 file), written to a
    temporary beside it and renamed into place, so a reader finds the old file or the new
    one; a failure is one ``ExportError`` line and leaves no temporary behind."""
    import tempfile
    try:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror}") from None
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)  # mkstemp makes it private; a document is an ordinary file
        os.replace(temporary, path)
    except OSError as error:
        raise ExportError(f"cannot write {path}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
