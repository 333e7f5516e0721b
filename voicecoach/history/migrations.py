"""The history's schema, as a list of migrations applied in order and recorded by name.

Each migration is a function of one ``sqlite3.Connection``, added to ``MIGRATIONS`` with the
``@migration`` decorator; ``migrate`` runs the ones a database has not had yet, all in one
``BEGIN IMMEDIATE`` transaction, and records each in the ``_migrations`` table with the time
it ran. A migration, once released, is never edited: a change to the schema is a new
function at the end of the list. (The shape is simonw/llm's ``llm/migrations.py``.)

A database whose ``_migrations`` names one this version does not know, or whose
``PRAGMA user_version`` (the number of migrations applied, set by ``migrate``) is beyond
``len(MIGRATIONS)``, was written by a newer voicecoach: it is refused with ``HistoryError``
before anything is written, so going back to an older version can never damage a newer
history.
"""

from __future__ import annotations

import datetime
import sqlite3
from typing import Callable

from ..errors import HistoryError

MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = []
migration = MIGRATIONS.append

TABLE = "_migrations"
# The tables each migration makes: a file that had the migration and lacks one is damaged.
MADE = {"m001_sessions": ("sessions",), "m002_levels": ("levels",)}


def known_names() -> list[str]:
    """The names of this version's migrations, in the order they apply."""
    return [fn.__name__ for fn in MIGRATIONS]


def applied_names(conn: sqlite3.Connection) -> list[str]:
    """The migrations recorded in ``conn``, oldest first ([] for a database without any)."""
    if not _has_table(conn, TABLE):
        return []
    return [row[0] for row in conn.execute(f"SELECT name FROM {TABLE} ORDER BY rowid")]


def tables_made(names: list[str]) -> list[str]:
    """The tables the migrations ``names`` made."""
    return [table for name in names for table in MADE.get(name, ())]


def unknown_names(conn: sqlite3.Connection) -> list[str]:
    """Recorded migrations this version does not know: the file is from a newer version."""
    known = set(known_names())
    return [name for name in applied_names(conn) if name not in known]


def check_known(conn: sqlite3.Connection) -> None:
    """Raise ``HistoryError`` if ``conn`` was migrated by a newer voicecoach."""
    unknown = unknown_names(conn)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > len(MIGRATIONS) and not unknown:
        unknown = [f"version {version}"]
    if unknown:
        path = database_file(conn)
        raise HistoryError(
            f"{path} was written by a newer voicecoach (schema {', '.join(unknown)} is unknown "
            f"here); upgrade voicecoach, or move the file aside (mv {path} {path}.newer) "
            "to start a new history")


def migrate(conn: sqlite3.Connection) -> list[str]:
    """Apply the missing migrations in one transaction; return the names applied.

    ``conn`` must be in autocommit mode (``isolation_level=None``): the transaction is ours.
    Two processes migrating at once are serialised by ``BEGIN IMMEDIATE``; the second finds
    the work done and applies nothing.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        check_known(conn)  # again, under the lock: a newer version may have got here first
        conn.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} "
                     "(name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = set(applied_names(conn))
        applied = []
        for fn in MIGRATIONS:
            if fn.__name__ in done:
                continue
            fn(conn)
            now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
            conn.execute(f"INSERT INTO {TABLE} (name, applied_at) VALUES (?, ?)",
                         (fn.__name__, now))
            applied.append(fn.__name__)
        if conn.execute("PRAGMA user_version").fetchone()[0] != len(MIGRATIONS):
            conn.execute(f"PRAGMA user_version = {len(MIGRATIONS)}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:  # SQLite may have rolled back already (disk full, I/O error)
            conn.execute("ROLLBACK")
        raise
    return applied


def database_file(conn: sqlite3.Connection) -> str:
    """The file behind ``conn``, for messages."""
    return conn.execute("PRAGMA database_list").fetchone()[2]


def _has_table(conn: sqlite3.Connection, name: str) -> bool:
    row = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                       (name,)).fetchone()
    return row is not None


@migration
def m001_sessions(conn: sqlite3.Connection) -> None:
    # One row per session; times are ISO-8601 UTC text with an offset, so they sort as text.
    # length_s is NULL for a session logged after playing an exported file.
    conn.execute("""
        CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            routine TEXT NOT NULL,
            routine_digest TEXT NOT NULL,
            started_at TEXT NOT NULL,
            length_s REAL,
            outcome TEXT NOT NULL CHECK (outcome IN ('completed', 'stopped')),
            stopped_at TEXT,
            stop_reason TEXT CHECK (stop_reason IN ('quit', 'signal', 'error', 'pain')),
            felt TEXT NOT NULL CHECK (felt IN ('better', 'same', 'worse', 'unknown')),
            pain INTEGER CHECK (pain BETWEEN 0 AND 10),
            source TEXT NOT NULL CHECK (source IN ('live', 'log'))
        )""")
    conn.execute("CREATE INDEX sessions_by_routine ON sessions (routine, started_at)")


@migration
def m002_levels(conn: sqlite3.Connection) -> None:
    # The reps used for each exercise, by name: the routine's text may change between
    # sessions, and the progression matches exercises by name.
    conn.execute("""
        CREATE TABLE levels (
            session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            exercise TEXT NOT NULL,
            reps INTEGER NOT NULL CHECK (reps >= 0),
            PRIMARY KEY (session_id, position)
        )""")
