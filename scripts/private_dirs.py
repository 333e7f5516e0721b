"""Private user folders for the scripts that run voicecoach (the benchmark and its parts).

A script must never touch the user's own cache, saved places, history or settings: a
benchmark's sessions in a person's history would change the levels they are given.
``private_env`` points all four of voicecoach's folders into one folder of the run; the
scripts' main functions call ``private_dirs`` so children inherit it too.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

FOLDERS = {"VOICECOACH_CACHE_DIR": "cache", "VOICECOACH_STATE_DIR": "state",
           "VOICECOACH_DATA_DIR": "data", "VOICECOACH_CONFIG_DIR": "config"}


def private_env(folder: Path | str, base: dict | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with the four folders in ``folder``."""
    env = dict(os.environ if base is None else base)
    env.update({name: str(Path(folder) / sub) for name, sub in FOLDERS.items()})
    return env


@contextlib.contextmanager
def private_dirs(folder: Path | str | None = None):
    """This process's environment pointed at private folders meanwhile (in ``folder``, or a
    temporary folder removed afterwards); yields the folder."""
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="voicecoach-user-"))
        before = {name: os.environ.get(name) for name in FOLDERS}
        os.environ.update(private_env(folder, {}))
        try:
            yield Path(folder)
        finally:
            for name, value in before.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
