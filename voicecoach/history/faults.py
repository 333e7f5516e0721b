"""What can stand in the way of the history file, each told apart in one line.

- Damaged (``damaged``): corrupt, a table missing, a row that is not a session. Refused, the
  file left as it is, and only here the advice to move it aside: it cannot be read anyway.
- Not a file (``check_path``): a FIFO, a folder, a dangling or looping symlink at its path.
  Refused at once, before anything opens it (opening a FIFO would wait for a writer forever).
- Busy (``HistoryBusy``): another program holds a lock. Waited for up to ``BUSY_S``, in short
  tries so that Ctrl-C acts within ``TRY_S``; then it says so, and the file is fine.
- Unwritable (``HistoryUnavailable``): a full disk, a read-only file system, a folder or file
  without write permission. The file can still be read (``read_only_problem`` says why it
  cannot be written), and a session plays; it is not recorded.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import stat
import time
from pathlib import Path
from typing import Callable, TypeVar

from ..errors import HistoryBusy, HistoryError, HistoryUnavailable

BUSY_S = 10.0  # how long we wait for another program's lock before saying it holds the file
TRY_S = 0.1  # one wait inside SQLite: the longest Ctrl-C goes unheard while we wait
FULL_BYTES = 128 * 1024  # less free room than this and a session (file, WAL, index) may not fit

T = TypeVar("T")

# SQLite's primary result codes (the low byte of ``sqlite_errorcode``).
BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
FULL_CODE = 13  # SQLITE_FULL
UNWRITABLE_CODES = {3, 8, 10, 14}  # SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR, SQLITE_CANTOPEN
# SQLITE_ERROR (a table or column missing), SQLITE_SCHEMA, SQLITE_CORRUPT, SQLITE_CONSTRAINT,
# SQLITE_MISMATCH, SQLITE_FORMAT, SQLITE_NOTADB: what the file holds is wrong.
DAMAGED_CODES = {1, 11, 17, 19, 20, 24, 26}


def damaged(path: Path, problem: str) -> HistoryError:
    return HistoryError(f"the history {path} is damaged ({problem}); it was left as it is: move "
                        f"it aside (mv {path} {path}.broken) and voicecoach starts a new one")


def busy(path: Path) -> HistoryBusy:
    return HistoryBusy(f"another program is using the history {path} (waited {BUSY_S:g} s); "
                       "try again when it has finished")


def check_path(path: Path) -> bool:
    """True if a regular file is at ``path`` (through symlinks), False if nothing is;
    ``HistoryError`` for anything else, without opening it."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):  # a file where the data folder would be:
        return False  # the folder is made, or said not to be makeable, when a session is written
    except OSError as error:
        raise HistoryUnavailable(f"cannot read the history {path}: {error.strerror}") from None
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise HistoryError(f"the history {path} is a symlink that loops; remove the link "
                               "or make it point to the history file") from None
        if error.errno == errno.ENOENT:
            raise HistoryError(f"the history {path} is a symlink to {os.readlink(path)}, which "
                               "does not exist (a disk not mounted?); mount it, or remove the "
                               "link") from None
        raise HistoryUnavailable(f"cannot read the history {path}: {error.strerror}") from None
    if not stat.S_ISREG(mode):
        raise HistoryError(f"the history {path} is {_kind(mode)}, not a file; remove it, or set "
                           "VOICECOACH_DATA_DIR to another folder")
    return True


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO"), (stat.S_ISDIR, "a folder"),
                       (stat.S_ISSOCK, "a socket"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device")):
        if test(mode):
            return name
    return "not a regular file"


def read_only_problem(path: Path) -> str | None:
    """Why the history at ``path`` (which may not exist yet) cannot be written, or None.

    Asked of the system, not guessed from SQLite's words: the file system's flags and free
    room, and the permissions of the file or of the nearest folder that exists."""
    where = path if path.exists() else _nearest_existing(path.parent)
    folder = where if where.is_dir() else where.parent
    try:
        room = os.statvfs(folder)
    except OSError:
        return None
    if room.f_flag & os.ST_RDONLY:
        return f"the data folder {folder} is on a read-only file system"
    if room.f_bavail * room.f_frsize < FULL_BYTES:
        return f"the disk holding the history {path} is full"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the data folder {folder} cannot be written (permission denied)"
    if path.exists() and not os.access(path, os.W_OK):
        return f"the history {path} cannot be written (permission denied)"
    return None


def _nearest_existing(folder: Path) -> Path:
    while not folder.exists() and folder.parent != folder:
        folder = folder.parent
    return folder


def as_error(path: Path, error: BaseException) -> HistoryError:
    """The one-line error for a failure of SQLite or the system on the history at ``path``."""
    if isinstance(error, OSError):
        if error.errno in (errno.ENOSPC, errno.EDQUOT):
            return HistoryUnavailable(f"the disk holding the history {path} is full")
        return HistoryUnavailable(read_only_problem(path)
                                  or f"cannot write the history {path}: {error.strerror}")
    code = getattr(error, "sqlite_errorcode", 0) & 0xFF
    if code in BUSY_CODES:
        return busy(path)
    if code == FULL_CODE:
        return HistoryUnavailable(f"the disk holding the history {path} is full")
    if code in UNWRITABLE_CODES:
        return HistoryUnavailable(read_only_problem(path) or f"cannot use the history {path}: {error}")
    if code in DAMAGED_CODES:
        return damaged(path, str(error))
    return HistoryUnavailable(f"cannot use the history {path}: {error}")


def cannot_write(error: sqlite3.Error) -> bool:
    """A failure to make or write a file (SQLite's lock files too), not one of the data."""
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in UNWRITABLE_CODES | {FULL_CODE}


def is_busy(error: sqlite3.Error) -> bool:
    return getattr(error, "sqlite_errorcode", 0) & 0xFF in BUSY_CODES


def waiting(path: Path, attempt: Callable[[], T]) -> T:
    """``attempt()``, tried again while another program holds the lock, for up to ``BUSY_S``;
    then ``HistoryBusy``. Each try waits at most ``TRY_S`` in SQLite, so Ctrl-C is heard."""
    deadline = time.monotonic() + BUSY_S
    while True:
        try:
            return attempt()
        except sqlite3.Error as error:
            if not is_busy(error):
                raise
            if time.monotonic() >= deadline:
                raise busy(path) from None
        time.sleep(TRY_S / 2)
