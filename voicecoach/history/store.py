"""Every session, remembered: one SQLite file, ``history.db`` in ``paths.data_dir()``.

A session is a ``SessionRecord``: which routine (its name and a digest of its content), when
it started, how long it ran, the reps used for each exercise, how it ended (completed, or
stopped at which exercise and why) and how the back felt afterwards.

Nothing is lost, even with a crash or two sessions at once: the file is in WAL mode, every
write is one ``BEGIN IMMEDIATE`` transaction, and a busy writer is waited for
(``faults.BUSY_S``). A file we cannot trust is never touched: before opening it for writing
we open it read-only and check it (``PRAGMA quick_check``, our tables, the schema's version);
a damaged file or one from a newer voicecoach raises ``HistoryError`` naming the file and
what to do, and stays byte for byte as it was. A history that cannot be written (a full
disk, a read-only folder) raises ``HistoryUnavailable``, which the caller turns into one
warning line: the session plays, unrecorded. The file is made 0600: it is health data.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

from ..errors import HistoryUnavailable, InputError
from ..paths import data_dir
from ..text import clip
from . import faults, migrations

FILE_NAME = "history.db"
PRIVATE = 0o600  # health data: the history and its -wal, -shm are the user's only
T = TypeVar("T")

OUTCOMES = ("completed", "stopped")
STOP_REASONS = ("quit", "signal", "error", "pain")  # quit: the user's q
FELT = ("better", "same", "worse", "unknown")  # compared with before the session
SOURCES = ("live", "log")  # played by voicecoach, or logged after playing an exported file
MAX_PAIN = 10


def content_digest(content: bytes | str) -> str:
    """The digest recorded for a routine: sha256 of its file's bytes (or a built-in's text)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


@dataclass(frozen=True)
class SessionRecord:
    """One session. ``levels`` is the reps used per exercise, by name, in routine order.
    ``length_s`` is how long it played (None when logged after playing an exported file).

    ``started_at`` must carry a time zone; it is kept in UTC. A stopped session names the
    exercise it stopped in (``stopped_at``, None if it stopped before the first) and why.
    Invalid values raise ``InputError`` naming the field (``voicecoach log --pain 11``).
    """

    routine: str
    routine_digest: str
    started_at: dt.datetime
    length_s: float | None
    levels: tuple[tuple[str, int], ...] = ()
    outcome: str = "completed"
    stopped_at: str | None = None
    stop_reason: str | None = None
    felt: str = "unknown"
    pain: int | None = None
    source: str = "live"
    id: int | None = field(default=None, compare=False)

    def __post_init__(self):
        pairs = self.levels.items() if isinstance(self.levels, Mapping) else self.levels
        object.__setattr__(self, "levels",
                           tuple((str(name), int(reps)) for name, reps in dict(pairs).items()))
        object.__setattr__(self, "started_at", _as_utc(self.started_at))
        if self.length_s is not None:
            object.__setattr__(self, "length_s", float(self.length_s))
        _check_choice("outcome", self.outcome, OUTCOMES)
        _check_choice("felt", self.felt, FELT)
        _check_choice("source", self.source, SOURCES)
        if self.outcome == "stopped":
            _check_choice("stop_reason", self.stop_reason, STOP_REASONS)
        elif self.stop_reason is not None or self.stopped_at is not None:
            raise InputError("a completed session has no stop_reason or stopped_at")
        check_pain(self.pain)
        if self.length_s is not None and not self.length_s >= 0:
            raise InputError(f"length_s: must be 0 or more seconds, got {self.length_s!r}")
        if any(reps < 0 for _, reps in self.levels):
            raise InputError("levels: reps must be 0 or more")

    @property
    def levels_by_name(self) -> dict[str, int]:
        return dict(self.levels)

    def level_of(self, exercise: str) -> int | None:
        """The reps used for ``exercise`` in this session, or None if it was not in it."""
        return self.levels_by_name.get(exercise)


def check_pain(pain) -> None:
    """``pain`` is None or a whole number from 0 to 10 (``voicecoach log --pain``)."""
    if pain is not None and (isinstance(pain, bool) or not isinstance(pain, int)
                             or not 0 <= pain <= MAX_PAIN):
        raise InputError(f"pain: must be a whole number from 0 to {MAX_PAIN}, got {pain!r}")


def _check_choice(name: str, value, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise InputError(f"{name}: must be one of {', '.join(choices)}, got {value!r}")


def _as_utc(when: dt.datetime) -> dt.datetime:
    if not isinstance(when, dt.datetime) or when.tzinfo is None:
        raise InputError(f"started_at: must be a time with a time zone, got {when!r}")
    return when.astimezone(dt.timezone.utc).replace(microsecond=0)  # one format: sorts as text


class History:
    """The session history in one SQLite file: ``record`` a session, list ``sessions``,
    ``delete`` one.

    ``History.open()`` opens (creating if needed) the file in the data folder for writing;
    ``History.open(write=False)`` only reads, without a file reads as empty, and where the
    file can be read but not written (a full disk, a read-only folder) says so through
    ``warn`` and reads it all the same. What stops each is told apart in ``faults``.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection | None, *, writable: bool):
        self.path, self._conn, self.writable = path, conn, writable

    @classmethod
    def open(cls, path: Path | str | None = None, *, write: bool = True,
             warn: Callable[[str], None] | None = None) -> "History":
        path = Path(path) if path is not None else _default_path(create=write)
        exists = faults.check_path(path)  # a FIFO would hang SQLite's open: never given to it
        if not write:
            problem = faults.read_only_problem(path)
            if problem:
                (warn or _warn)(f"Warning: {problem}: sessions are read, but a session is not "
                                "recorded until it can be written")
            return cls(path, _read_connection(path) if exists else None, writable=False)
        if exists:
            _read_connection(path).close()  # a damaged or newer file is refused before a write
        return cls(path, _open_for_writing(path, exists, warn or _warn), writable=True)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> "History":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def record(self, session: SessionRecord) -> SessionRecord:
        """Store ``session`` in one transaction; return it with its ``id``."""
        if not self.writable:
            raise HistoryUnavailable(f"the history {self.path} was opened read-only")
        return self._guarded(lambda: self._insert(session))

    def _insert(self, s: SessionRecord) -> SessionRecord:
        def insert(conn: sqlite3.Connection) -> int:
            session_id = conn.execute(
                "INSERT INTO sessions (routine, routine_digest, started_at, length_s, outcome,"
                " stopped_at, stop_reason, felt, pain, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (s.routine, s.routine_digest, s.started_at.isoformat(), s.length_s, s.outcome,
                 s.stopped_at, s.stop_reason, s.felt, s.pain, s.source)).lastrowid
            conn.executemany(
                "INSERT INTO levels (session_id, position, exercise, reps) VALUES (?,?,?,?)",
                [(session_id, i, name, reps) for i, (name, reps) in enumerate(s.levels)])
            return session_id
        return replace(s, id=_transaction(self._conn, insert))

    def delete(self, session_id: int) -> bool:
        """Remove the session ``session_id`` and its levels; False if there was none."""
        if not self.writable:
            raise HistoryUnavailable(f"the history {self.path} was opened read-only")

        def delete(conn: sqlite3.Connection) -> int:
            conn.execute("DELETE FROM levels WHERE session_id = ?", (session_id,))
            return conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,)).rowcount
        return self._guarded(lambda: _transaction(self._conn, delete)) > 0

    def sessions(self, routine: str | None = None) -> list[SessionRecord]:
        """Every recorded session (of ``routine`` if given), oldest first. A row that is not
        a session raises ``HistoryError``: the file is damaged."""
        if self._conn is None:
            return []
        rows, levels = self._guarded(lambda: self._rows(routine))
        return [_from_row(self.path, row, levels.get(row[0], ())) for row in rows]

    def _rows(self, routine: str | None) -> tuple[list[tuple], dict[int, list[tuple[str, int]]]]:
        where, args = ("WHERE routine = ?", (routine,)) if routine is not None else ("", ())
        rows = self._conn.execute(
            "SELECT id, routine, routine_digest, started_at, length_s, outcome, stopped_at,"
            f" stop_reason, felt, pain, source FROM sessions {where}"
            " ORDER BY started_at, id", args).fetchall()
        levels: dict[int, list[tuple[str, int]]] = {}
        for session_id, name, reps in self._conn.execute(
                "SELECT session_id, exercise, reps FROM levels JOIN sessions"
                f" ON sessions.id = levels.session_id {where} ORDER BY session_id, position", args):
            levels.setdefault(session_id, []).append((name, reps))
        return rows, levels

    def routines(self) -> list[str]:
        """The names of the routines with recorded sessions, alphabetically."""
        if self._conn is None:
            return []
        return self._guarded(lambda: [r[0] for r in self._conn.execute(
            "SELECT DISTINCT routine FROM sessions ORDER BY 1")])

    def _guarded(self, attempt: Callable[[], T]) -> T:
        """``attempt()``, waiting out another program's lock; SQLite's and the system's
        failures as our one-line errors."""
        try:
            return faults.waiting(self.path, attempt)
        except (sqlite3.Error, OSError) as error:
            raise faults.as_error(self.path, error) from None


def _transaction(conn: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """``work(conn)`` in one ``BEGIN IMMEDIATE`` transaction, committed or rolled back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = work(conn)
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O)
            conn.execute("ROLLBACK")
        raise
    return result


def _from_row(path: Path, row: tuple, levels: Iterable[tuple[str, int]]) -> SessionRecord:
    """The session in ``row``, or ``HistoryError`` naming the file: a row we did not write."""
    (session_id, routine, digest, started_at, length_s, outcome, stopped_at, stop_reason,
     felt, pain, source) = row
    try:
        when = dt.datetime.fromisoformat(started_at)
    except (TypeError, ValueError):
        raise faults.damaged(path, f"session {session_id}: started_at is not a time: "
                                   f"{clip(str(started_at))!r}") from None
    try:
        return SessionRecord(routine=routine, routine_digest=digest, started_at=when,
                             length_s=length_s, levels=tuple(levels), outcome=outcome,
                             stopped_at=stopped_at, stop_reason=stop_reason, felt=felt,
                             pain=pain, source=source, id=session_id)
    except (InputError, TypeError, ValueError) as error:
        raise faults.damaged(path, f"session {session_id}: {clip(str(error), 80)}") from None


def _default_path(create: bool) -> Path:
    try:
        return data_dir(create) / FILE_NAME
    except OSError as error:
        raise HistoryUnavailable(f"cannot use the data folder for the history: {error}") from None


def _read_connection(path: Path) -> sqlite3.Connection:
    """A read-only connection to the sound history of a schema we know at ``path``.

    Where SQLite cannot make its lock files beside it (a read-only folder, a full disk), the
    file is read as immutable: nobody can be writing it there."""
    try:
        return faults.waiting(path, lambda: _checked(path, "mode=ro"))
    except sqlite3.Error as error:
        if not faults.cannot_write(error):
            raise faults.as_error(path, error) from None
    try:
        return _checked(path, "mode=ro&immutable=1")
    except sqlite3.Error as error:
        raise faults.as_error(path, error) from None


def _checked(path: Path, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{quote(str(path))}?{mode}", uri=True, timeout=faults.TRY_S,
                           isolation_level=None, check_same_thread=False)
    try:
        problem = _problem(conn)
        if problem:
            raise faults.damaged(path, problem)
        migrations.check_known(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _problem(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the database behind ``conn``, or None."""
    result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        return "; ".join(result[:2])
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and migrations.TABLE not in tables:
        return "its tables are not voicecoach's"
    missing = [t for t in migrations.tables_made(migrations.applied_names(conn)) if t not in tables]
    return f"the table {missing[0]} is missing" if missing else None


def _open_for_writing(path: Path, exists: bool, warn: Callable[[str], None]) -> sqlite3.Connection:
    try:
        if exists:
            _tighten(path, warn)
        else:
            _create_private(path)
        conn = sqlite3.connect(path, timeout=faults.TRY_S, isolation_level=None,
                               check_same_thread=False)
    except (OSError, sqlite3.Error) as error:
        raise faults.as_error(path, error) from None
    try:
        faults.waiting(path, lambda: _set_up(conn))
    except BaseException as error:
        conn.close()
        if isinstance(error, (sqlite3.Error, OSError)):
            raise faults.as_error(path, error) from None
        raise
    return conn


def _set_up(conn: sqlite3.Connection) -> None:
    if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
        raise HistoryUnavailable(f"the file system of {migrations.database_file(conn)} does "
                                 "not allow SQLite's WAL mode")
    conn.execute("PRAGMA synchronous = FULL")  # a committed session survives a power cut
    conn.execute("PRAGMA foreign_keys = ON")
    migrations.migrate(conn)


def _create_private(path: Path) -> None:
    """An empty file (an empty SQLite database) readable by this user only, whatever the
    umask or the folder's mode: the history is health data. SQLite gives its -wal and -shm
    files the mode of the database."""
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, PRIVATE)
    except FileExistsError:  # another session made it a moment ago
        return
    try:
        os.fchmod(handle, PRIVATE)  # the umask narrowed os.open's mode, never widens fchmod's
    finally:
        os.close(handle)


def _tighten(path: Path, warn: Callable[[str], None]) -> None:
    """A history (and its -wal, -shm) readable by others is made ours only, saying so once."""
    info = os.stat(path)
    mode = info.st_mode & 0o777
    if not mode & 0o077 or info.st_uid != os.geteuid():
        return
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if file.exists():
            os.chmod(file, PRIVATE)
    warn(f"Note: the history {path} could be read by other users (mode {mode:04o}); "
         f"it is now {PRIVATE:04o}, yours only")


def _warn(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
