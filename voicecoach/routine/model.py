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
    """One exercise; a rep is ``steps`` in order, done ``reps`` times per side per set.

    ``reps_range`` (start, max) is given for reps that build up (``reps: {start: 2, max:
    15}``): ``reps`` is then the level to play, the start until ``plan.progression`` sets
    today's. ``per_set`` splits those reps into even sets (``set_sizes``) instead of ``sets``.
    ``alternate`` (with ``sides``): each rep is done once on each side in turn (right, left,
    right, left...) instead of all of a set's reps on one side, then on the next.
    """

    name: str
    steps: tuple[Step, ...]
    instructions: str | None = None
    reps: int = 1
    sets: int = 1
    rest_between_sets_s: float | None = None
    sides: tuple[str, ...] = ()
    reps_range: tuple[int, int] | None = None
    per_set: int | None = None
    alternate: bool = False

    def set_sizes(self) -> tuple[int, ...]:
        """The reps of each set, in order."""
        if self.per_set:
            return split_sets(self.reps, self.per_set)
        return (self.reps,) * self.sets


def split_sets(reps: int, per_set: int | None) -> tuple[int, ...]:
    """``reps`` as sets of at most ``per_set``, as even as possible, bigger first: as a
    physiotherapist prescribes them (7 with per_set 5 is 4 then 3; 15 is 5, 5, 5).

    >>> split_sets(7, 5), split_sets(15, 5), split_sets(11, 5), split_sets(4, None)
    ((4, 3), (5, 5, 5), (4, 4, 3), (4,))
    """
    if reps < 0:
        raise ValueError(f"reps must be 0 or more, got {reps}")
    if per_set is None or reps <= per_set:
        return (reps,)
    if per_set < 1:
        raise ValueError(f"per_set must be 1 or more, got {per_set}")
    count = -(-reps // per_set)
    small, extra = divmod(reps, count)
    return tuple(small + 1 if i < extra else small for i in range(count))


@dataclass(frozen=True)
class Routine:
    """A whole session. ``folder`` is where relative sound paths are resolved; ``path`` is
    the routine's own file (None for a built-in routine or text). ``per_week`` is the
    sessions a week of its ``schedule`` (None: the settings' schedule, if any)."""

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
    per_week: int | None = None
