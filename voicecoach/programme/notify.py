"""What a reminder's service runs: ``python -m voicecoach.programme.notify ROUTINE``.

It shows a desktop notification with ``notify-send`` (libnotify) with a "Start" action; a
desktop whose notifications have actions shows the button, and choosing it starts the
session: in a terminal (``x-terminal-emulator``, Debian's choice of one) where there is one,
so the keys work, else on its own (media keys and headset buttons, spoken commands with
``listen: true``). Elsewhere the notification is shown and nothing is started.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence

ACTION = "start"
NOTIFY_S = 12 * 3600  # the notification waits for an answer; half a day later it is moot


def notify(routine: str, title: str, run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
           which: Callable[[str], str | None] = shutil.which) -> int:
    """Show the reminder; start the session if its action is chosen. Returns an exit status."""
    if which("notify-send") is None:
        print("voicecoach reminder: notify-send is missing (apt-get install libnotify-bin)",
              file=sys.stderr)
        return 1
    try:
        shown = run(["notify-send", "--app-name=voicecoach", f"--action={ACTION}=Start now",
                     f"Time for your exercises: {title}",
                     f"voicecoach play {routine}"], capture_output=True, text=True, timeout=NOTIFY_S)
    except subprocess.TimeoutExpired:
        return 0
    if shown.returncode != 0:
        print(f"voicecoach reminder: notify-send failed: {shown.stderr.strip()}", file=sys.stderr)
        return 1
    if shown.stdout.strip() == ACTION:
        run(session_command(routine, which), check=False)
    return 0


def session_command(routine: str, which: Callable[[str], str | None] = shutil.which) -> list[str]:
    play = [sys.executable, "-m", "voicecoach", "play", routine]
    terminal = which("x-terminal-emulator")
    return [terminal, "-e", *play] if terminal else play


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m voicecoach.programme.notify ROUTINE", file=sys.stderr)
        return 2
    return notify(args[0], _title(args[0]))


def _title(routine: str) -> str:
    from ..routine import load_routine
    try:
        return load_routine(routine).title
    except Exception:  # a routine broken since the reminder was set: still remind
        return routine


if __name__ == "__main__":
    sys.exit(main())
