"""The history as the commands use it: today's levels for a routine (``plan``, ``play``,
``export``), recording a live session at its end, ``voicecoach log`` and ``voicecoach history``.

A routine is known in the history by its name if built in (``back-pain``), else by the
absolute path of its file, and each session keeps the sha256 of the routine's text, so a
routine edited between sessions can be told apart; levels follow exercises by name.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

from ..errors import HistoryError, HistoryUnavailable, InputError
from ..plan.progression import FRESH, Level, apply_levels, plan_levels
from . import entry
from .entry import parse_when
from .store import History, SessionRecord, content_digest, utc_now

LOG_FELT = ("better", "same", "worse")


def routine_identity(source: str) -> tuple[str, str]:
    """(the routine's name in the history, the digest of its text) for a name or a file."""
    from ..routine import builtin_names, resolve
    path = resolve(source)
    name = source if source in builtin_names() else str(path.resolve())
    try:
        return name, content_digest(path.read_bytes())
    except OSError as error:
        raise InputError(f"{source}: cannot be read: {error.strerror}") from None


def recorded_name(source: str) -> str:
    """The name a session of ``source`` is recorded under: a built-in's name, else the
    absolute path of its file (which need not exist any more)."""
    from ..routine import builtin_names
    return source if source in builtin_names() else str(Path(source).resolve())


def history_name(source: str, recorded: list[str]) -> str | None:
    """The routine of ``recorded`` (the names in the history) meant by ``history ROUTINE``:
    a built-in's name, a file's path (also of a file gone since), or the name the table
    shows for a file (``tiny`` for ``/home/me/tiny.yaml``). None if none; ``InputError``
    if the shown name fits several files."""
    from ..routine import builtin_names
    from .report import shown_name
    if source in builtin_names():
        return source
    path = str(Path(source).resolve())
    if path in recorded:
        return path
    fits = [name for name in recorded if source in (shown_name(name), Path(name).name)]
    if len(fits) > 1:
        raise InputError(f"{source}: more than one routine has this name in the history "
                         f"({', '.join(fits)}); give the file's path")
    return fits[0] if fits else None


def parse_level(text: str | None) -> str | int | None:
    """``--level``: None (from the history), 'fresh', or a whole number of reps."""
    return entry.parse_level(text, FRESH)


def todays_routine(source: str, routine, choice: str | int | None = None,
                   warn: Callable[[str], None] | None = None, language: str | None = None):
    """``routine`` at today's levels, and the ``Level`` of each leveled exercise by name;
    the intro says what changed in ``language`` (default: the routine's), and what the
    programme has to say first (``history.programme``: pain, a week that fell short).

    A history that cannot be read here (``HistoryUnavailable``) is a warning: the levels
    are then the starts. A corrupt or newer history raises ``HistoryError``.
    """
    from ..errors import HistoryUnavailable
    from .programme import with_programme_notes
    name, _ = routine_identity(source)
    try:
        with History.open(write=False) as history:
            past = history.sessions(name)
    except HistoryUnavailable as error:
        if warn is not None:
            warn(f"Warning: {error}")
        past = []
    routine = with_programme_notes(routine, past, language)
    if not any(getattr(e, "reps_range", None) for e in routine.exercises):
        return routine, {}
    levels = plan_levels(routine.exercises, past, choice)
    return apply_levels(routine, levels, language=language), levels


def level_lines(levels: dict[str, Level]) -> list[str]:
    """``plan``'s lines about levels: "Knee rolls: 4 reps: up from 3 after 2 good sessions"."""
    return [f"{name}: {level.reps} reps: {level.reason}" for name, level in levels.items()]


def record_live(source: str, routine, *, started_at: dt.datetime, length_s: float,
                outcome: str, stopped_at: str | None = None, stop_reason: str | None = None,
                felt: str = "unknown") -> str | None:
    """Record a live session; returns a warning line if it could not be (never raises for
    the history: the session has been played whatever happens here). The line says how to
    add the session by hand once the history can be written."""
    try:
        name, digest = routine_identity(source)
        record = SessionRecord(name, digest, started_at, round(length_s, 3), _levels(routine),
                               outcome, stopped_at, stop_reason, felt, source="live")
        with History.open() as history:
            history.record(record)
    except HistoryUnavailable as error:
        return f"Warning: {error}; this session is not recorded{_later(source, started_at, felt)}"
    except (HistoryError, InputError) as error:
        return f"Warning: {error}; this session is not recorded"
    return None


def _later(source: str, started_at: dt.datetime, felt: str) -> str:
    import shlex
    how = f" --felt {felt}" if felt in LOG_FELT else ""
    when = started_at.astimezone().isoformat(timespec="minutes")  # with its offset: never ambiguous
    return f" (to add it later: voicecoach log {shlex.quote(source)}{how} --when {when})"


def log_session(source: str, felt: str | None = None, pain: str | None = None,
                when: str | None = None) -> SessionRecord:
    """``voicecoach log``: a session done from an exported file, at today's levels."""
    from ..routine import load_routine
    if felt is not None and felt not in LOG_FELT:
        raise InputError(f"--felt: must be one of {', '.join(LOG_FELT)}, got {felt!r}")
    started_at = parse_when(when) if when is not None else utc_now()
    pain_value = entry.parse_pain(pain)
    name, digest = routine_identity(source)
    loaded = load_routine(source)
    # Opened for writing first: a history that cannot be written is one error, not a
    # warning from reading it and then the error.
    with History.open() as history:
        routine, _ = todays_routine(source, loaded)
        record = SessionRecord(name, digest, started_at, None, _levels(routine), "completed",
                               felt=felt or "unknown", pain=pain_value, source="log")
        return history.record(record)


def show_history(source: str | None = None, *, as_json: bool = False, plot: Path | None = None,
                 width: int = 80) -> str:
    """``voicecoach history``: the table and chart, or JSON; with ``plot`` also a PNG."""
    from . import report
    with History.open(write=False) as history:
        name = history_name(source, history.routines()) if source else None
        sessions = history.sessions(name) if name or not source else []
    if plot is not None:
        report.plot_png(sessions, plot)
    if as_json:
        return json.dumps(report.as_json(sessions), indent=1, ensure_ascii=False)
    if source and not sessions:
        return f"No sessions of {source} recorded yet."
    from .programme import per_week_of_name
    text = report.report(sessions, width, per_week_of=per_week_of_name)
    return text + (f"\nWrote {plot}" if plot is not None else "")


def delete_session(session_id: str, source: str | None = None) -> str:
    """``voicecoach history --delete ID``: remove one session; the line saying which."""
    from .report import describe
    number = entry.parse_id(session_id)
    with History.open() as history:
        name = history_name(source, history.routines()) if source else None
        found = [s for s in history.sessions(name) if s.id == number] if name or not source else []
        if not found:
            of = f" of {source}" if source else ""
            raise InputError(f"--delete: there is no session {number}{of} in the history "
                             "(the ID column of 'voicecoach history' lists them)")
        history.delete(number)
    return f"Deleted session {number}: {describe(found[0])}"


def _levels(routine) -> dict[str, int]:
    return {e.name: e.reps for e in routine.exercises}


def log_played(name: str, digest: str, levels, *, felt: str, pain: int | None = None,
               started_at: dt.datetime | None = None, stopped_at: str | None = None,
               stop_reason: str | None = None) -> SessionRecord:
    """A session done from a published episode (the phone's check-in), recorded as ``log``
    records one but at the levels the episode was made at (``levels``: name -> reps), which
    today's may have moved from. ``name`` and ``digest`` are the routine's as the episode
    knew them; with ``stop_reason`` the session stopped (in ``stopped_at``)."""
    outcome = "completed" if stop_reason is None else "stopped"
    record = SessionRecord(name, digest, started_at or utc_now(), None, levels, outcome,
                           stopped_at, stop_reason, felt=felt, pain=pain, source="log")
    with History.open() as history:
        return history.record(record)
