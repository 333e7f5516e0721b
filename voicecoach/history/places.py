"""Where each routine's last live session stopped, so ``play --resume`` can go back there.

One small JSON file in the state folder (``paths.state_dir()``), private to the user,
replaced atomically on every save: a session killed at any moment leaves either the old
place or the new one, never half a file. A place is a chapter (an exercise), kept by
title and index so it still works after the routine's text or the voice rate changes.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

from ..paths import state_dir
from ..routine import builtin_names, resolve
from ..plan.timeline import Timeline

FILE_NAME = "places.json"


def routine_key(source: str) -> str:
    """The same routine gets the same key however it was named on the command line."""
    if source in builtin_names():
        return f"builtin:{source}"
    return str(Path(resolve(source)).resolve())


class Places:
    """The saved place of one routine: ``save``, ``find`` (in a timeline), ``clear``."""

    def __init__(self, source: str, directory: Path | None = None):
        self.key = routine_key(source)
        self.path = Path(directory or state_dir()) / FILE_NAME

    def saved(self) -> dict | None:
        return self._read().get(self.key)

    def save(self, chapter: int, title: str) -> None:
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
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no file yet, or damaged: a lost place must never stop a session
        return data if isinstance(data, dict) else {}

    def _write(self, places: dict) -> None:
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
