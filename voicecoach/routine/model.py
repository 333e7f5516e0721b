"""The routine as frozen objects: what the loader builds and the scheduler reads.

Texts a routine leaves out (the intro, the outro, the word for a bare hold) are None here:
the phrase pack of the routine's ``language`` says them (``plan.phrases``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Step:
    """One cue of a rep: spoken, then an optional timed hold, then an optional release.

    ``say`` and ``release`` are templates: ``{side}`` and doubled braces are filled in with
    ``str.format(side=...)`` when spoken; ``say`` None is the pack's word for "hold".
    ``hold_s`` is in seconds.
    """

    say: str | None
    hold_s: float | None = None
    release: str | None = None
    count: bool = True


@dataclass(frozen=True)
class Exercise:
    """One exercise; a rep is ``steps`` in order, done ``reps`` times per side per set."""

    name: str
    steps: tuple[Step, ...]
    instructions: str | None = None
    reps: int = 1
    sets: int = 1
    rest_between_sets_s: float | None = None
    sides: tuple[str, ...] = ()


@dataclass(frozen=True)
class Routine:
    """A whole session. ``folder`` is where relative sound paths are resolved; ``path`` is
    the routine's own file (None for a built-in routine or text)."""

    title: str
    exercises: tuple[Exercise, ...]
    intro: str | None = None
    outro: str | None = None
    rest_s: float | None = None
    sounds: tuple[tuple[str, Path], ...] = ()
    source: str | None = None
    language: str = "en"
    folder: Path | None = field(default=None, compare=False)
    path: Path | None = field(default=None, compare=False)
