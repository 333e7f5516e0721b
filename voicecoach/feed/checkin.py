"""The check-in from the phone: a session done from an episode, recorded in the history
as ``voicecoach log`` records one, at the episode's levels, exactly once per episode.

Exactly once, even with two submits at the same moment or a crash half-way: a ledger,
``feed-checkins.db`` beside the history, keeps one row per episode. Under a lock (one
check-in at a time, across threads and processes) the row is written first, pending,
with the session's start time and answers; then the session goes into the history; then
the row is marked recorded. A row found pending (a crash between the two) is finished:
the history is asked for a logged session of that routine at that very start time, and
the session is recorded only if it is not there. The first submit's answers win.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import sqlite3
from dataclasses import dataclass
from typing import Iterator

from ..errors import HistoryUnavailable, InputError, VoicecoachError
from ..history.journal import LOG_FELT
from ..history.store import MAX_PAIN, utc_now
from ..paths import data_dir
from .episode import Episode

LEDGER_NAME = "feed-checkins.db"
DONE = "done"
BUSY_S = 10.0


@dataclass(frozen=True)
class Answers:
    """The form: ``felt`` better/same/worse, ``pain`` 0-10 or None, ``stopped_at`` the
    exercise it stopped in (None: done), ``hurt``: it stopped because it hurt."""

    felt: str
    pain: int | None = None
    stopped_at: str | None = None
    hurt: bool = False

    @property
    def stop_reason(self) -> str | None:
        if self.stopped_at is None:
            return None
        return "pain" if self.hurt else "quit"


@dataclass(frozen=True)
class CheckIn:
    """A check-in's result: ``answers`` as recorded, when (``started_at``), whether this
    submit recorded it (``first``) or found it recorded before."""

    episode: Episode
    answers: Answers
    started_at: dt.datetime
    first: bool


def parse_answers(form: dict[str, list[str]], episode: Episode) -> Answers:
    """The submitted form as ``Answers``, or an ``InputError`` saying what is missing."""
    felt = _one(form, "felt")
    if felt not in LOG_FELT:
        raise InputError("choose how your back feels: better, the same or worse")
    pain_text = _one(form, "pain") or ""
    if pain_text and not (pain_text.isdigit() and int(pain_text) <= MAX_PAIN):
        raise InputError(f"the pain score is a whole number from 0 to {MAX_PAIN}")
    ended = _one(form, "ended") or DONE
    if ended != DONE and ended not in episode.exercises():
        raise InputError("choose 'done' or one of the episode's exercises")
    return Answers(felt, int(pain_text) if pain_text else None,
                   None if ended == DONE else ended, _one(form, "hurt") == "yes")


def _one(form: dict[str, list[str]], name: str) -> str | None:
    values = form.get(name) or [None]
    return values[-1]


def check_in(episode: Episode, answers: Answers) -> CheckIn:
    """Record the session done from ``episode`` (once: see the module)."""
    with _ledger() as ledger:
        row = ledger.execute("SELECT started_at, answers, recorded FROM checkins WHERE episode = ?",
                             (episode.id,)).fetchone()
        if row is not None and row[2]:
            return CheckIn(episode, Answers(**json.loads(row[1])), _time(row[0]), first=False)
        if row is None:
            started_at = utc_now()
            ledger.execute("INSERT INTO checkins (episode, started_at, answers, recorded) VALUES (?,?,?,0)",
                           (episode.id, started_at.isoformat(), json.dumps(answers.__dict__)))
            _record(episode, answers, started_at)
        else:  # a crash came between the two writes: finish it
            started_at, answers = _time(row[0]), Answers(**json.loads(row[1]))
            if not _in_history(episode, answers, started_at):
                _record(episode, answers, started_at)
        ledger.execute("UPDATE checkins SET recorded = 1 WHERE episode = ?", (episode.id,))
    return CheckIn(episode, answers, started_at, first=True)


def recorded(episode: Episode) -> CheckIn | None:
    """The check-in already recorded for ``episode``, or None."""
    with _ledger() as ledger:
        row = ledger.execute("SELECT started_at, answers FROM checkins WHERE episode = ? AND recorded = 1",
                             (episode.id,)).fetchone()
    return None if row is None else CheckIn(episode, Answers(**json.loads(row[1])), _time(row[0]), False)


def next_session(source: str) -> list[str]:
    """What the next session of ``source`` will be, a line per exercise that builds up."""
    from ..history.journal import level_lines, todays_routine
    from ..routine import load_routine
    try:
        routine, levels = todays_routine(source, load_routine(source))
    except VoicecoachError as error:
        return [f"(cannot say: {error})"]
    if not levels:
        return [f"{routine.title}: the same again (none of its exercises builds up)."]
    return level_lines(levels)


def _record(episode: Episode, answers: Answers, started_at: dt.datetime) -> None:
    from ..history.journal import log_played
    log_played(_history_name(episode), episode.routine_digest, dict(episode.levels),
               felt=answers.felt, pain=answers.pain, started_at=started_at,
               stopped_at=answers.stopped_at, stop_reason=answers.stop_reason)


def _in_history(episode: Episode, answers: Answers, started_at: dt.datetime) -> bool:
    """Whether the history has this very check-in: logged at its second, with its answers
    and the episode's levels."""
    from ..history.store import History
    with History.open(write=False) as history:
        return any((s.source, s.started_at, s.levels, s.felt, s.pain, s.stopped_at, s.stop_reason)
                   == ("log", started_at, episode.levels, answers.felt, answers.pain,
                       answers.stopped_at, answers.stop_reason)
                   for s in history.sessions(_history_name(episode)))


def _history_name(episode: Episode) -> str:
    from ..history.journal import recorded_name
    return recorded_name(episode.source)


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


@contextlib.contextmanager
def _ledger() -> Iterator[sqlite3.Connection]:
    """The ledger, held under its lock (a file lock: it serializes threads, each with its
    own descriptor, and processes alike)."""
    try:
        folder = data_dir()
        lock = os.open(folder / (LEDGER_NAME + ".lock"), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise HistoryUnavailable(f"cannot use the data folder for check-ins: {error}") from None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        conn = sqlite3.connect(folder / LEDGER_NAME, timeout=BUSY_S, isolation_level=None)
        try:
            conn.execute("PRAGMA synchronous = FULL")  # a recorded check-in survives a power cut
            conn.execute("CREATE TABLE IF NOT EXISTS checkins (episode TEXT PRIMARY KEY,"
                         " started_at TEXT NOT NULL, answers TEXT NOT NULL, recorded INTEGER NOT NULL)")
            yield conn
        finally:
            conn.close()
    except sqlite3.Error as error:
        raise HistoryUnavailable(f"cannot write the check-ins {folder / LEDGER_NAME}: {error}") from None
    finally:
        os.close(lock)
