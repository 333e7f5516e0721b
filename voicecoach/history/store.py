"""Every session, remembered: one SQLite file, ``history.db`` in ``paths.data_dir()``.

A session is a ``SessionRecord``: which routine (its name and a digest of its content), when
it started, how long it ran, the reps used for each exercise, how it ended (completed, or
stopped at which exercise and why) and how the back felt afterwards.

Nothing is lost, even with a crash or two sessions at once: the file is in WAL mode, every
write is one ``BEGIN IMMEDIATE`` transaction, and a busy writer is waited for (``BUSY_S``).
A file we cannot trust is never touched: before opening it for writing we open it read-only
and check it (``PRAGMA quick_check``, our tables, the schema's version); a corrupt file or one
from a newer voicecoach raises ``HistoryError`` naming the file and what to do, and stays
byte for byte as it was. A data folder we cannot write raises ``HistoryUnavailable``, which
the caller turns into one warning line: the session plays, unrecorded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote

from ..errors import HistoryError, HistoryUnavailable, InputError
from ..paths import data_dir
from . import migrations

FILE_NAME = "history.db"
BUSY_S = 10.0  # how long a write waits for another session's write before giving up

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


def parse_when(text: str) -> dt.datetime:
    """An ISO-8601 time from the command line (``log --when``); local time if no offset."""
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--when: not an ISO-8601 time, got {text!r} "
                         "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)") from None
    if when.tzinfo is None:
        when = when.astimezone()  # the user's own clock
    return when.astimezone(dt.timezone.utc)


class History:
    """The session history in one SQLite file: ``record`` a session, list ``sessions``.

    ``History.open()`` opens (creating if needed) the file in the data folder for writing;
    ``History.open(write=False)`` only reads, and without a file reads as empty.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection | None, *, writable: bool):
        self.path, self._conn, self.writable = path, conn, writable

    @classmethod
    def open(cls, path: Path | str | None = None, *, write: bool = True) -> "History":
        path = Path(path) if path is not None else _default_path(create=write)
        if path.exists():
            reader = _check_readable(path)
            if not write:
                return cls(path, reader, writable=False)
            reader.close()
        elif not write:
            return cls(path, None, writable=False)
        return cls(path, _open_for_writing(path), writable=True)

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
            raise HistoryUnavailable(f"{self.path} was opened read-only; this session is not recorded")
        try:
            return self._insert(session)
        except sqlite3.Error as error:  # disk full, read-only file, busy too long
            raise HistoryUnavailable(
                f"cannot write the history {self.path}: {error}; this session is not recorded") from None

    def _insert(self, s: SessionRecord) -> SessionRecord:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            cursor = conn.execute(
                "INSERT INTO sessions (routine, routine_digest, started_at, length_s, outcome,"
                " stopped_at, stop_reason, felt, pain, source) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (s.routine, s.routine_digest, s.started_at.isoformat(), s.length_s, s.outcome,
                 s.stopped_at, s.stop_reason, s.felt, s.pain, s.source))
            session_id = cursor.lastrowid
            conn.executemany(
                "INSERT INTO levels (session_id, position, exercise, reps) VALUES (?,?,?,?)",
                [(session_id, i, name, reps) for i, (name, reps) in enumerate(s.levels)])
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O)
                conn.execute("ROLLBACK")
            raise
        return replace(s, id=session_id)

    def sessions(self, routine: str | None = None) -> list[SessionRecord]:
        """Every recorded session (of ``routine`` if given), oldest first."""
        if self._conn is None:
            return []
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
        return [_from_row(row, levels.get(row[0], ())) for row in rows]

    def routines(self) -> list[str]:
        """The names of the routines with recorded sessions, alphabetically."""
        if self._conn is None:
            return []
        return [r[0] for r in self._conn.execute("SELECT DISTINCT routine FROM sessions ORDER BY 1")]


def _from_row(row: tuple, levels: Iterable[tuple[str, int]]) -> SessionRecord:
    (session_id, routine, digest, started_at, length_s, outcome, stopped_at, stop_reason,
     felt, pain, source) = row
    return SessionRecord(routine=routine, routine_digest=digest,
                         started_at=dt.datetime.fromisoformat(started_at), length_s=length_s,
                         levels=tuple(levels), outcome=outcome, stopped_at=stopped_at,
                         stop_reason=stop_reason, felt=felt, pain=pain, source=source,
                         id=session_id)


def _default_path(create: bool) -> Path:
    try:
        return data_dir(create) / FILE_NAME
    except OSError as error:
        raise HistoryUnavailable(f"cannot use the data folder for the history: {error}; "
                                 "this session is not recorded") from None


def _check_readable(path: Path) -> sqlite3.Connection:
    """Open ``path`` read-only and make sure it is a sound history of a schema we know."""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True,
                               timeout=BUSY_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise HistoryUnavailable(f"cannot read the history {path}: {error}") from None
    try:
        problem = _problem(conn)
    except sqlite3.DatabaseError as error:
        problem = str(error)
    if problem:
        conn.close()
        raise HistoryError(f"{path} is not a usable voicecoach history ({problem}); it was left "
                           f"as it is: move it aside (mv {path} {path}.broken) and voicecoach "
                           "starts a new one")
    try:
        migrations.check_known(conn)
    except HistoryError:
        conn.close()
        raise
    return conn


def _problem(conn: sqlite3.Connection) -> str | None:
    """What is wrong with the database behind ``conn``, or None."""
    result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    if result != ["ok"]:
        return "damaged: " + "; ".join(result[:2])
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if tables and migrations.TABLE not in tables:
        return "its tables are not voicecoach's"
    return None


def _open_for_writing(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, timeout=BUSY_S, isolation_level=None, check_same_thread=False)
    except sqlite3.Error as error:
        raise HistoryUnavailable(f"cannot write the history {path}: {error}; "
                                 "this session is not recorded") from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_S * 1000)}")
        if conn.execute("PRAGMA journal_mode = WAL").fetchone()[0] != "wal":
            raise sqlite3.OperationalError("the file system does not allow WAL mode")
        conn.execute("PRAGMA synchronous = FULL")  # a committed session survives a power cut
        conn.execute("PRAGMA foreign_keys = ON")
        migrations.migrate(conn)
    except BaseException as error:
        conn.close()
        if isinstance(error, sqlite3.Error):
            raise HistoryUnavailable(f"cannot write the history {path}: {error}; "
                                     "this session is not recorded") from None
        raise
    return conn
