"""Where each routine's last live session stopped, so ``play --resume`` can go back there.

One small JSON file in the state folder (``paths.state_dir()``), private to the user,
replaced atomically on every save: a session killed at any moment leaves either the old
place or the new one, never half a file. A place is a chapter (an exercise), kept by
title and index so it still works after the routine's text or the voice rate changes.

A lost place never stops a session: a damaged file is set aside (renamed, never deleted)
with one warning line, and a state folder that cannot be made means no place is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from ..errors import UserDirUnavailable
from ..paths import state_dir
from ..routine import builtin_names, resolve
from ..plan.model import Timeline

FILE_NAME = "places.json"


def routine_key(source: str) -> str:
    """The same routine gets the same key however it was named on the command line."""
    if source in builtin_names():
        return f"builtin:{source}"
    return str(Path(resolve(source)).resolve())


class Places:
    """The saved place of one routine: ``save``, ``find`` (in a timeline), ``clear``."""

    def __init__(self, source: str, directory: Path | None = None,
                 warn: Callable[[str], None] | None = None):
        self.key = routine_key(source)
        self.warn = warn or _warn
        self.path: Path | None = None  # None: no state folder, so no place is kept
        try:
            self.path = Path(directory or state_dir()) / FILE_NAME
        except UserDirUnavailable as error:
            self.warn(f"Warning: {error}; your place is not kept this time")

    def saved(self) -> dict | None:
        return self._read().get(self.key)

    def save(self, chapter: int, title: str) -> None:
        if self.path is None:
            return
        places = self._read()
        places[self.key] = {"chapter": chapter, "title": title}
        self._write(places)

    def clear(self) -> None:
        places = self._read()
        if places.pop(self.key, None) is not None:
            self._write(places)

    def find(self, timeline: Timeline) -> int | None:
        """The chapter index of the saved place in ``timeline``, or None if there is none."""
        saved = self.saved()
        if not saved:
            return None
        chapters = timeline.chapters
        index = saved.get("chapter")
        if isinstance(index, int) and 0 <= index < len(chapters) and chapters[index].title == saved.get("title"):
            return index
        titles = [c.title for c in chapters]
        return titles.index(saved["title"]) if saved.get("title") in titles else None

    def _read(self) -> dict:
        if self.path is None:
            return {}
        if self.path.exists() and not self.path.is_file():  # a FIFO would block read_text
            self.warn(f"Warning: the saved places {self.path} are not a file; no place is kept")
            self.path = None
            return {}
        try:
            text = self.path.read_text(encoding="utf-8")
        except (OSError, ValueError):
            return {}  # no file yet (or unreadable): a lost place must never stop a session
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as error:  # RecursionError: [[[[...]]]] nested deep
            return self._set_aside(type(error).__name__ if isinstance(error, RecursionError)
                                   else "not JSON")
        if not _well_formed(data):
            return self._set_aside("not a list of places")
        return data

    def _set_aside(self, problem: str) -> dict:
        """Rename the damaged file out of the way (it is the user's: kept, not deleted)."""
        stamp = f"{FILE_NAME}.damaged-{time.strftime('%Y%m%dT%H%M%S')}"
        aside, number = self.path.with_name(stamp), 1
        try:
            while aside.exists():  # one set aside this very second already
                number += 1
                aside = self.path.with_name(f"{stamp}-{number}")
            os.rename(self.path, aside)
            self.warn(f"Warning: the saved places {self.path} were damaged ({problem}); "
                      f"moved to {aside.name}, starting afresh")
        except OSError as error:
            self.warn(f"Warning: the saved places {self.path} are damaged ({problem}) and cannot "
                      f"be moved aside ({error.strerror}); no place is used")
            self.path = None
        return {}

    def _write(self, places: dict) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".places-", suffix=".json")
        try:  # mkstemp makes the file 0600: readable by this user only
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(places, out, ensure_ascii=False, indent=1)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise


def _well_formed(data) -> bool:
    """Each routine's key -> {"chapter": an index, "title": a chapter title}."""
    return isinstance(data, dict) and all(
        isinstance(place, dict) and type(place.get("chapter")) is int
        and isinstance(place.get("title"), str) for place in data.values())


def _warn(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)
