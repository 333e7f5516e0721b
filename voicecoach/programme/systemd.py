"""The one adapter to systemd: a reminder as a user timer and service in the user's own
unit folder (``$XDG_CONFIG_HOME/systemd/user``, else ``~/.config/systemd/user``), and every
``systemctl --user`` call. Nothing is written anywhere else, and nothing needs root.

The timer (``OnCalendar=``, ``Persistent=true``: one missed while the machine was off comes
when it wakes) starts the service, which shows the notification (``notify``). The units name
their routine in a comment line, which ``listed`` reads back.

systemd is called, never imported: ``run`` is ``subprocess.run`` unless a test passes another.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError, RuntimeFailure
from .reminders import PREFIX, Reminder, unit_name

ROUTINE_LINE = "# voicecoach-routine: "
SYSTEMCTL_S = 30  # a user manager answers in well under a second; more is a hung bus


def unit_dir() -> Path:
    """Where a user's own units go (systemd's ``~/.config/systemd/user``)."""
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "systemd" / "user"


def timer_text(reminder: Reminder) -> str:
    name = unit_name(reminder.routine)
    return (f"{ROUTINE_LINE}{reminder.routine}\n"
            f"# made by voicecoach remind; remove it with: voicecoach remind --off {shlex.quote(reminder.routine)}\n"
            f"[Unit]\nDescription=voicecoach reminder: {_one_line(reminder.routine)}\n\n"
            f"[Timer]\nOnCalendar={reminder.on_calendar()}\nPersistent=true\nUnit={name}.service\n\n"
            "[Install]\nWantedBy=timers.target\n")


def service_text(reminder: Reminder, python: str | None = None) -> str:
    command = [python or sys.executable, "-m", "voicecoach.programme.notify", reminder.routine]
    return (f"{ROUTINE_LINE}{reminder.routine}\n"
            f"[Unit]\nDescription=voicecoach reminder: {_one_line(reminder.routine)}\n\n"
            # exec: the notification waits for its action, so the service runs until it is
            # answered or closed
            "[Service]\nType=exec\n"
            f"ExecStart={' '.join(exec_quote(part) for part in command)}\n")


def exec_quote(word: str) -> str:
    """One word of ``ExecStart=``: quoted for systemd, with its specifiers (%) and variables
    ($) taken literally."""
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def _one_line(text: str) -> str:
    return text.replace("\n", " ").replace("%", "%%")


@dataclass
class SystemdUser:
    """The user's systemd: ``folder`` for the units, ``run`` to call ``systemctl``."""

    folder: Path
    run: Callable[..., subprocess.CompletedProcess] = subprocess.run

    @classmethod
    def here(cls) -> "SystemdUser":
        return cls(unit_dir())

    def unavailable(self) -> str | None:
        """Why there is no systemd user manager to talk to, or None when there is one."""
        if shutil.which("systemctl") is None:
            return "systemd is not here (no systemctl)"
        done = self._systemctl("show-environment", check=False)
        if done.returncode != 0:
            return "there is no systemd user session here (systemctl --user cannot reach it)"
        return None

    def install(self, reminder: Reminder) -> Path:
        """Write the timer and service, then enable and (re)start the timer; on failure,
        remove what was written: a reminder is there whole or not at all."""
        name = unit_name(reminder.routine)
        written = []
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            written.append(self._write(f"{name}.service", service_text(reminder)))
            written.append(self._write(f"{name}.timer", timer_text(reminder)))
        except OSError as error:
            for path in written:
                path.unlink(missing_ok=True)
            raise RuntimeFailure(f"cannot write the reminder into {self.folder}: "
                                 f"{error.strerror or error}") from None
        try:
            self._systemctl("daemon-reload")
            self._systemctl("enable", f"{name}.timer")
            self._systemctl("restart", f"{name}.timer")  # a changed time applies now
        except RuntimeFailure:
            for path in written:
                path.unlink(missing_ok=True)
            self._systemctl("daemon-reload", check=False)
            raise
        return written[1]

    def remove(self, routine: str) -> list[Path]:
        """Stop, disable and delete ``routine``'s reminder; the files go even where systemd
        cannot be reached. ``InputError`` if there is none."""
        name = unit_name(routine)
        paths = [self.folder / f"{name}.timer", self.folder / f"{name}.service"]
        if not any(p.exists() for p in paths):
            raise InputError(f"no reminder for {routine}; voicecoach remind --list shows them")
        reachable = self.unavailable() is None
        if reachable:
            self._systemctl("disable", "--now", f"{name}.timer", check=False)
        for path in paths:
            path.unlink(missing_ok=True)
        if reachable:
            self._systemctl("daemon-reload", check=False)
        return paths

    def listed(self) -> list[tuple[str, str, str]]:
        """(routine, ``OnCalendar=``, timer file name) of every reminder, by file name."""
        found = []
        for path in sorted(self.folder.glob(f"{PREFIX}*.timer")):
            lines = path.read_text(encoding="utf-8").splitlines()
            routine = next((l[len(ROUTINE_LINE):] for l in lines if l.startswith(ROUTINE_LINE)), "?")
            when = next((l.split("=", 1)[1] for l in lines if l.startswith("OnCalendar=")), "?")
            found.append((routine, when, path.name))
        return found

    def _write(self, name: str, text: str) -> Path:
        path = self.folder / name
        temporary = path.with_name(f".{name}.part")
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)  # systemd never reads half a unit
        return path

    def _systemctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = ["systemctl", "--user", *args]
        try:
            done = self.run(command, capture_output=True, text=True, timeout=SYSTEMCTL_S)
        except (OSError, subprocess.TimeoutExpired) as error:
            done = subprocess.CompletedProcess(command, 1, "", str(error))
        if check and done.returncode != 0:
            reason = (done.stderr or done.stdout).strip().splitlines()
            raise RuntimeFailure(f"{' '.join(command)} failed: {reason[0] if reason else done.returncode}; "
                                 "no reminder was left behind")
        return done
