"""Today's level for an exercise: start small, build up, step back when it hurts.

An exercise whose reps are a range (``reps: {start: 2, max: 15}``) has a level: the reps
for today, worked out from the past sessions of the routine, oldest first. The rule:

- With no past session that included the exercise, the level is ``start``.
- A *good* session was completed and felt better or the same afterwards. After 2 good
  sessions in a row at one level, the level rises by one rep, up to ``max``, and the count
  starts again.
- A *bad* session felt worse, or was stopped for pain. The level steps back one rep from the
  level used in it (never below ``start``) and the count of good sessions starts again.
- Any other session tells nothing about the back (nobody answered the check-in, or it was
  stopped with ``q``, by a signal or by an error, and did not feel worse): it is passed over.
  It neither counts as good nor resets the count, so a phone call never costs progress.
- Each session's own level is the starting point for the next (kept within ``start`` and
  ``max``, which may have changed since): a session played at another level (``--level N``)
  starts a new count at that level. Sessions count in the order they started, so two good
  sessions logged with an earlier ``--when`` than a session played since do not raise the
  level played in it; the reason says so ("played at 3 where 4 was due"). Exercises are matched by name, so a renamed exercise
  starts again from ``start``; a session without the exercise is passed over.
- The pain score (0-10, ``log --pain``) is a traffic light, over all of the above: 0 to 3
  go on (the session counts as the rest of it says; a completed session with a low score and
  no answer to the check-in counts as good), 4 or 5 stay (the level stays and the count of
  good sessions starts again, whatever the feeling), 6 or more step back (a bad session). A
  session stopped for pain (``h``) steps back whatever the score.

So the level moves at most one rep from the last level used, never leaves the range, and a
bad session never raises it.

``split_sets`` breaks a level over ``per_set`` into sets as even as a physiotherapist would
prescribe them, the bigger ones first: 7 with ``per_set: 5`` is 4 then 3, 15 is 5, 5, 5.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from ..routine.model import split_sets  # noqa: F401  (part of the rule: sets from a level)

GOOD_IN_A_ROW = 2  # good sessions at one level before it rises
# The pain traffic light (a published clinical convention for exercise with back pain):
# 0-3 go on, 4-5 stay at the level, 6 or more step back.
PAIN_GO_ON_MAX = 3
PAIN_STAY_MAX = 5


@dataclass(frozen=True)
class Attempt:
    """What one past session says about one exercise.

    ``reps`` is the level used (None if the exercise was not in that session); ``outcome``
    is 'completed' or 'stopped'; ``stop_reason`` one of 'quit', 'signal', 'error', 'pain';
    ``felt`` one of 'better', 'same', 'worse', 'unknown'; ``pain`` the score from 0 to 10
    given afterwards, or None.
    """

    reps: int | None
    outcome: str
    felt: str
    stop_reason: str | None = None
    pain: int | None = None

    @property
    def verdict(self) -> str:
        """'good', 'stay', 'bad' or 'neutral' (see the module's rule)."""
        if self.felt == "worse" or self.stop_reason == "pain" or self.pain_light == "back":
            return "bad"
        if self.pain_light == "stay":
            return "stay"
        low_pain = self.pain is not None and self.felt == "unknown"  # a score is an answer
        if self.outcome == "completed" and (self.felt in ("better", "same") or low_pain):
            return "good"
        return "neutral"

    @property
    def pain_light(self) -> str | None:
        """The pain score as a traffic light: 'go', 'stay', 'back', or None without a score."""
        if self.pain is None:
            return None
        if self.pain <= PAIN_GO_ON_MAX:
            return "go"
        return "stay" if self.pain <= PAIN_STAY_MAX else "back"


@dataclass(frozen=True)
class Level:
    """Today's reps and why, in a short phrase for ``plan`` ("up from 3 after 2 good sessions").

    ``last_reps`` is the level used last time (None if never done): the spoken intro says so
    when today's differs.
    """

    reps: int
    reason: str
    last_reps: int | None = None

    @property
    def change(self) -> int:
        """Reps more (+) or fewer (-) than last time; 0 the first time or when unchanged."""
        return 0 if self.last_reps is None else self.reps - self.last_reps


def attempts(exercise: str, sessions: Iterable) -> list[Attempt]:
    """The ``Attempt``s of ``exercise`` in ``sessions`` (records with ``level_of(name)``,
    ``outcome``, ``felt``, ``stop_reason`` and ``pain``, like the history's ``SessionRecord``)."""
    return [Attempt(s.level_of(exercise), s.outcome, s.felt, s.stop_reason, s.pain)
            for s in sessions]


def level_today(start: int, maximum: int, past: Sequence[Attempt]) -> Level:
    """Today's level for an exercise with reps from ``start`` to ``maximum`` (the rule above)."""
    if not 0 < start <= maximum:
        raise ValueError(f"reps need 0 < start <= max, got start {start}, max {maximum}")
    tried = [a for a in past if a.reps is not None]
    if not tried:
        return Level(start, "start level")
    level, good, reason = start, 0, "start level"
    for attempt in tried:
        used = min(max(attempt.reps, start), maximum)
        if used != level:
            good = 0  # a new level (chosen with --level, or the range changed): a new count
        level, good, reason = _step(used, good, attempt, start, maximum, due=level)
    return Level(level, reason, last_reps=tried[-1].reps)


def _step(used: int, good: int, attempt: Attempt, start: int, maximum: int,
          due: int) -> tuple[int, int, str]:
    """(next level, good sessions counted at it, why) after one session at level ``used``,
    when the level ``due`` for it was (by the sessions before it)."""
    verdict = attempt.verdict
    if verdict == "bad":
        why = _bad_why(attempt)
        if used > start:
            return used - 1, 0, f"down from {used}: last session {why}"
        return start, 0, f"start level: last session {why}"
    if verdict == "good":
        good += 1
        if good >= GOOD_IN_A_ROW:
            if used < maximum:
                return used + 1, 0, f"up from {used} after {GOOD_IN_A_ROW} good sessions"
            return maximum, 0, f"at the maximum after {GOOD_IN_A_ROW} good sessions"
        return used, good, f"same as last time ({good} of {GOOD_IN_A_ROW} good sessions)"
    if verdict == "stay":
        return used, 0, f"same as last time: pain {attempt.pain} last session (4 or 5: stay)"
    if used != due:
        # Not what the sessions before it earned (--level, or sessions logged afterwards with
        # an earlier --when): the level follows the last one played, and it is said so.
        return used, good, (f"as in the last session, played at {used} where {due} was due "
                            f"(not counted; {good} of {GOOD_IN_A_ROW} good sessions at {used})")
    return used, good, (f"same as last time (last session not counted; "
                        f"{good} of {GOOD_IN_A_ROW} good sessions)")


def _bad_why(attempt: Attempt) -> str:
    """Why a bad session was bad, in ``plan``'s words: its strongest reason."""
    if attempt.stop_reason == "pain":
        return "stopped for pain"
    if attempt.pain_light == "back":
        return f"pain {attempt.pain}"
    return "felt worse"


# -- a routine's levels for today ----------------------------------------------------------

FRESH = "fresh"  # --level fresh: every exercise at its start


def plan_levels(exercises: Iterable, sessions: Sequence, choice: str | int | None = None
                ) -> dict[str, Level]:
    """Today's ``Level`` of each exercise with a reps range, by name.

    ``exercises`` have ``name`` and ``reps_range`` ((start, max), or None for fixed reps);
    ``sessions`` are the routine's past sessions, oldest first; ``choice`` is None (from the
    history), ``FRESH`` (the start) or a number of reps (kept within each exercise's range).
    """
    levels = {}
    for exercise in exercises:
        reps_range = getattr(exercise, "reps_range", None)  # None: fixed reps
        if reps_range is None or exercise.name in levels:
            continue
        start, maximum = reps_range
        past = attempts(exercise.name, sessions)
        earned = level_today(start, maximum, past)
        levels[exercise.name] = _chosen(earned, start, maximum, choice)
    return levels


def _chosen(earned: Level, start: int, maximum: int, choice: str | int | None) -> Level:
    if choice is None:
        return earned
    if choice == FRESH:
        return Level(start, "start level (--level fresh)", earned.last_reps)
    reps = min(max(int(choice), start), maximum)
    why = f"--level {choice}" + ("" if reps == choice else f", within {start} to {maximum}")
    return Level(reps, why, earned.last_reps)


def apply_levels(routine, levels: dict[str, Level], phrases=None, language: str | None = None):
    """``routine`` with each leveled exercise at today's reps, and its intro saying what
    changed since last time: one sentence per exercise whose level moved, in the words of
    ``phrases`` (if not given, the pack of ``language`` or of the routine, loaded only then)."""
    exercises = tuple(replace(e, reps=levels[e.name].reps) if e.name in levels else e
                      for e in routine.exercises)
    changed = {name: level.change for name, level in levels.items() if level.change}
    if not changed:
        return replace(routine, exercises=exercises)
    if phrases is None:
        from .phrases import load_phrases
        phrases = load_phrases(language or routine.language)
    said = [change_sentence(phrases, name, change) for name, change in changed.items()]
    intro = routine.intro if routine.intro is not None else phrases.say("intro")
    return replace(routine, exercises=exercises, intro=" ".join([intro, *said]))


def change_sentence(phrases, name: str, change: int) -> str:
    """What the intro says about a level that moved: "One more knee roll than last time."."""
    key = ("level_up" if change > 0 else "level_down") + ("_one" if abs(change) == 1 else "_other")
    return phrases.say(key, count=abs(change), name=name, noun=_noun(name, abs(change) != 1))


def _noun(name: str, plural: bool) -> str:
    """'Knee rolls' -> 'knee roll' / 'knee rolls'; 'Cat-cow' -> 'cat-cow' / 'cat-cows'."""
    first, _, rest = name.partition(" ")
    if first[:1].isupper() and first[1:].islower():  # a capital only because it starts the name
        name = (first.lower() + " " + rest).strip()
    singular = name[:-1] if name.endswith("s") and not name.endswith("ss") else name
    return singular + "s" if plural else singular
