"""``voicecoach remind``: set, list and remove reminders, or write one as an iCalendar file.

Everything that can be refused is refused before anything is written or any systemd call is
made: the routine (it must load), ``--at``, ``--days``, the ``.ics`` destination. Without a
systemd user session there is one line saying so, with the ``--ics`` command to use instead.
"""

from __future__ import annotations

import os
import shlex
import tempfile
from pathlib import Path

from ..errors import InputError, RuntimeFailure
from .reminders import Reminder, parse_at, parse_days


def remind(routine: str | None, at: str | None = None, days: str | None = None,
           ics: Path | None = None, listing: bool = False, off: bool = False, system=None) -> list[str]:
    """What ``remind`` does with its options; returns the lines to show. ``system`` is the
    systemd adapter (``systemd.SystemdUser``), made here unless a test passes one."""
    if system is None:
        from .systemd import SystemdUser
        system = SystemdUser.here()
    if sum((listing, off, ics is not None)) > 1:
        raise InputError("--list, --off and --ics: give one of them")
    if listing:
        if routine is not None:
            raise InputError("--list takes no ROUTINE")
        return [f"{name}: {when} ({unit})" for name, when, unit in system.listed()] or ["No reminders."]
    if routine is None:
        raise InputError("give a ROUTINE (or --list)")
    from ..history.journal import recorded_name
    if off:
        system.remove(recorded_name(routine))
        return [f"Removed the reminder for {routine}."]
    reminder, title = _reminder(routine, at, days)
    if ics is not None:
        return [f"Wrote {write_ics(reminder, title, ics)} ({reminder.described()})"]
    why = system.unavailable()
    if why is not None:
        raise RuntimeFailure(f"{why}, so no reminder was set; for a phone's calendar instead: "
                             f"{_ics_command(routine, reminder)}")
    timer = system.install(reminder)
    return [f"Reminder set for {routine} {reminder.described()} ({timer}); "
            f"remove it with: voicecoach remind --off {shlex.quote(routine)}"]


def _reminder(routine: str, at: str | None, days: str | None) -> tuple[Reminder, str]:
    from ..history.journal import recorded_name
    from ..routine import load_routine
    hour, minute = parse_at(at)
    chosen = parse_days(days)
    title = load_routine(routine).title  # a routine that does not load is refused now
    return Reminder(recorded_name(routine), hour, minute, chosen), title


def _ics_command(routine: str, reminder: Reminder) -> str:
    days = "" if reminder.every_day else f" --days {','.join(reminder.days)}"
    name = Path(routine).stem
    return (f"voicecoach remind {shlex.quote(routine)} --at {reminder.at}{days} "
            f"--ics {shlex.quote(name + '.ics')}")


def write_ics(reminder: Reminder, title: str, path: Path) -> Path:
    """The reminder as ``path`` (an ``.ics`` file), written whole or not at all."""
    from .ics import ics_text
    path = Path(path)
    if path.suffix.lower() != ".ics":
        raise InputError(f"--ics: the file must end in .ics, got {str(path)!r}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"--ics: the folder {str(folder)!r} does not exist")
    data = ics_text(reminder, title)
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        raise RuntimeFailure(f"cannot write {path}: {error.strerror or error}") from None
    return path
