"""What the coach says in its own words, and when: the intro, each exercise's announcement,
the lead-ins of a rep's first cue ("Two more.", "Now the left side.") and the marks inside a
hold, all made from the phrase pack of the session's language (``phrases``).

The scheduler (``timeline``) decides where each of these falls; this module only words them.
"""

from __future__ import annotations

import re
import string
from typing import Iterator

from ..routine import Exercise, Routine
from .phrases import Phrases

HALFWAY_MIN_HOLD_S = 20.0  # a shorter hold has no "Halfway."
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+")


def intro_text(routine: Routine, phrases: Phrases) -> str:
    """What the intro says: the routine's own, or the pack's welcome."""
    return routine.intro or phrases.say("intro")


def intro_sentences(routine: Routine, phrases: Phrases) -> list[str]:
    """The intro cut into its sentences, each a cue of its own. Live, the first can play
    while the next are synthesized (a slow engine would keep the person waiting for the
    whole intro); export and plan cut it the same way, so every sink has the same samples."""
    text = intro_text(routine, phrases)
    return [s for s in _SENTENCE_BREAK.split(text.strip()) if s] or [text]


def marks(seconds: float, count: bool, phrases: Phrases) -> Iterator[tuple[str, float]]:
    """(word, offset in seconds) spoken inside a hold: "Halfway", then the last seconds."""
    if not count:
        return
    if seconds >= HALFWAY_MIN_HOLD_S:
        yield phrases.say("halfway"), seconds / 2
    for remaining in (3, 2, 1):
        if remaining <= seconds:
            yield phrases.count_word(remaining), seconds - remaining


def announce(exercise: Exercise, phrases: Phrases) -> str:
    """The exercise's name and how many reps, on which sides, in how many sets."""
    sizes = exercise.set_sizes()
    each = sizes[0] if len(set(sizes)) == 1 else exercise.reps
    amount = phrases.amount(each, "reps_one", "reps_other")
    if exercise.sides:
        amount = phrases.say("on_each_side", amount=amount)
    if alternates(exercise):
        amount = phrases.say("alternating", amount=amount)
    if len(set(sizes)) > 1:  # a level split unevenly (per_set): 7 is "in 2 sets (4, 3)"
        amount = phrases.say("sets_split", sets=len(sizes), amount=amount,
                             sizes=", ".join(map(str, sizes)))
    elif len(sizes) > 1:
        amount = phrases.say("sets_of", sets=len(sizes), amount=amount)
    return phrases.say("announce", name=exercise.name, amount=amount)


def alternates(exercise: Exercise) -> bool:
    """Whether the sides take turns rep by rep (right, left, right...)."""
    return exercise.alternate and len(exercise.sides) > 1


def cue(exercise: Exercise, step_index: int, rep: int, reps: int, side: str | None, turn: int,
        phrases: Phrases) -> str:
    """What step ``step_index`` of rep ``rep`` (of ``reps``) says on ``side``; the first step
    is led by the rep's progress or, alternating, by its side (its ``turn``-th)."""
    step = exercise.steps[step_index]
    if step.say is None:
        text = phrases.say("hold")
    else:
        text = step.say.format(side=phrases.side(side))  # also undoes doubled braces where there are no sides
    if step_index == 0 and alternates(exercise):
        return _alternating_lead(exercise, rep, reps, side, turn, text, phrases)
    if step_index == 0:
        return _progress(rep, reps, text, phrases)
    return text


def _alternating_lead(exercise: Exercise, rep: int, reps: int, side: str, turn: int, text: str,
                      phrases: Phrases) -> str:
    """The first cue of one side of an alternating rep. The side is said with every rep:
    by the cue itself where it uses {side}, else led by "Now the left side." (the first
    rep of a set follows "Starting on the right side."). "Two more on each side." and
    "Last one on each side." go with the rep's first side: they count rounds of both."""
    first = exercise.steps[0].say
    says_side = first is not None and any(field == "side" for _, field, _, _ in string.Formatter().parse(first))
    if not says_side and (rep > 1 or turn):
        text = phrases.say("side_cue", side=side, text=text)
    if turn == 0 and reps > 1 and rep == reps:
        return phrases.say("last_each_side", text=text)
    if turn == 0 and reps >= 4 and rep == reps - 1:
        return phrases.say("two_more_each_side", text=text)
    return text


def _progress(rep: int, reps: int, text: str, phrases: Phrases) -> str:
    """The first cue of a rep, led by "Last one." or "Two more." where they apply."""
    if reps > 1 and rep == reps:
        return phrases.say("last_one", text=text)
    if reps >= 4 and rep == reps - 1:
        return phrases.say("two_more", text=text)
    return text
