"""The progression rule as a pure function: worked examples and hypothesis properties."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from voicecoach.history.store import SessionRecord
from voicecoach.plan.progression import (GOOD_IN_A_ROW, Attempt, Level, attempts, level_today,
                                         split_sets)

GOOD = ("completed", "same", None)
BETTER = ("completed", "better", None)
WORSE = ("completed", "worse", None)
PAIN = ("stopped", "unknown", "pain")
QUIT = ("stopped", "same", "quit")
NO_ANSWER = ("completed", "unknown", None)


def history(*steps) -> list[Attempt]:
    """(reps, kind) pairs as attempts."""
    return [Attempt(reps, outcome, felt, reason) for reps, (outcome, felt, reason) in steps]


def test_the_first_session_is_at_the_start_level():
    assert level_today(2, 15, []) == Level(2, "start level")


def test_two_good_sessions_in_a_row_raise_the_level_by_one():
    assert level_today(3, 15, history((3, GOOD))) == Level(
        3, "same as last time (1 of 2 good sessions)", last_reps=3)
    assert level_today(3, 15, history((3, GOOD), (3, BETTER))) == Level(
        4, "up from 3 after 2 good sessions", last_reps=3)
    assert level_today(3, 15, history((3, GOOD), (3, BETTER), (4, GOOD))) == Level(
        4, "same as last time (1 of 2 good sessions)", last_reps=4)


def test_a_worse_session_steps_back_and_starts_the_count_again():
    past = history((3, GOOD), (3, GOOD), (4, GOOD), (4, WORSE))
    assert level_today(3, 15, past) == Level(3, "down from 4: last session felt worse", last_reps=4)
    # the good session before the worse one no longer counts
    assert level_today(3, 15, past + history((3, GOOD))).reps == 3


def test_stopping_for_pain_steps_back_even_if_it_felt_better():
    past = history((5, GOOD), (5, ("stopped", "better", "pain")))
    assert level_today(2, 15, past) == Level(4, "down from 5: last session stopped for pain",
                                             last_reps=5)


def test_never_below_start_nor_above_max():
    assert level_today(2, 15, history((2, WORSE))) == Level(
        2, "start level: last session felt worse", last_reps=2)
    assert level_today(2, 4, history((4, GOOD), (4, GOOD))) == Level(
        4, "at the maximum after 2 good sessions", last_reps=4)


def test_sessions_that_tell_nothing_neither_count_nor_reset():
    past = history((3, GOOD), (3, QUIT), (3, NO_ANSWER), (3, ("stopped", "unknown", "signal")))
    assert level_today(3, 15, past) == Level(
        3, "same as last time (last session not counted; 1 of 2 good sessions)", last_reps=3)
    assert level_today(3, 15, past + history((3, GOOD))).reps == 4


def test_a_session_without_the_exercise_is_passed_over():
    past = history((3, GOOD), (None, WORSE), (3, GOOD))
    assert level_today(3, 15, past).reps == 4


def test_a_chosen_level_starts_a_new_count_there():
    # played with --level 8 once: the count restarts at 8
    past = history((3, GOOD), (8, GOOD))
    assert level_today(3, 15, past) == Level(8, "same as last time (1 of 2 good sessions)",
                                             last_reps=8)
    assert level_today(3, 15, past + history((8, BETTER))).reps == 9


def test_a_narrowed_range_keeps_the_level_inside_it():
    # the routine's max went down from 15 to 6 since the level reached 9
    assert level_today(2, 6, history((9, GOOD))).reps == 6
    assert level_today(5, 15, history((2, WORSE))).reps == 5


def test_exercises_are_matched_by_name_in_session_records():
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    records = [SessionRecord("r", "d", t0, 60, {"knee rolls": 3, "bridge": 2}, felt="same"),
               SessionRecord("r", "d", t0, 60, {"bridge": 2, "knee rolls": 3}, felt="better"),
               SessionRecord("r", "d", t0, 60, {"cat": 2}, outcome="stopped",
                             stopped_at="cat", stop_reason="pain", felt="worse")]
    assert [a.reps for a in attempts("knee rolls", records)] == [3, 3, None]
    assert level_today(3, 15, attempts("knee rolls", records)).reps == 4
    assert level_today(2, 15, attempts("cat", records)).reps == 2
    assert level_today(2, 15, attempts("new one", records)) == Level(2, "start level")


def test_change_is_against_last_time():
    assert Level(5, "x", last_reps=4).change == 1
    assert Level(3, "x", last_reps=4).change == -1
    assert Level(2, "start level").change == 0


def test_a_bad_range_is_refused():
    with pytest.raises(ValueError):
        level_today(5, 3, [])
    with pytest.raises(ValueError):
        level_today(0, 3, [])


@pytest.mark.parametrize("reps, per_set, sets", [
    (7, 5, (4, 3)), (15, 5, (5, 5, 5)), (11, 5, (4, 4, 3)), (5, 5, (5,)), (3, 5, (3,)),
    (4, None, (4,)), (6, 5, (3, 3)), (16, 5, (4, 4, 4, 4)),
])
def test_sets_are_as_even_as_possible_bigger_first(reps, per_set, sets):
    assert split_sets(reps, per_set) == sets


@given(st.integers(0, 200), st.integers(1, 30))
def test_sets_add_up_never_exceed_per_set_and_differ_by_at_most_one(reps, per_set):
    sets = split_sets(reps, per_set)
    assert sum(sets) == reps
    if reps <= per_set:
        assert sets == (reps,)
    else:
        assert max(sets) <= per_set
    assert max(sets) - min(sets) <= 1
    assert list(sets) == sorted(sets, reverse=True)
    assert len(sets) == max(1, -(-reps // per_set))


KINDS = st.sampled_from([GOOD, BETTER, WORSE, PAIN, QUIT, NO_ANSWER,
                         ("stopped", "worse", "quit"), ("stopped", "unknown", "error")])
RANGES = st.integers(1, 10).flatmap(lambda start: st.tuples(st.just(start),
                                                             st.integers(start, start + 15)))


@given(RANGES, st.lists(st.tuples(st.integers(0, 40), KINDS), max_size=30))
def test_any_past_gives_a_level_in_range_one_step_from_the_last(bounds, steps):
    start, maximum = bounds
    past = history(*steps)
    level = level_today(start, maximum, past)
    assert start <= level.reps <= maximum
    if past:
        last_used = min(max(past[-1].reps, start), maximum)
        assert abs(level.reps - last_used) <= 1
        if past[-1].verdict == "bad":
            assert level.reps <= last_used  # a worse session never raises the level
        if past[-1].verdict == "neutral":
            assert level.reps == last_used


@given(RANGES, st.lists(KINDS, max_size=40))
def test_following_the_advice_moves_one_step_at_a_time(bounds, kinds):
    """Each session played at the level given: levels change by at most one rep a session,
    only upwards after good sessions and only downwards after bad ones."""
    start, maximum = bounds
    past: list[Attempt] = []
    level = level_today(start, maximum, past)
    assert level.reps == start
    for kind in kinds:
        past.append(Attempt(level.reps, *kind[:2], kind[2]))
        after = level_today(start, maximum, past)
        assert start <= after.reps <= maximum
        assert abs(after.reps - level.reps) <= 1
        if after.reps > level.reps:
            assert past[-1].verdict == "good"
        if after.reps < level.reps:
            assert past[-1].verdict == "bad"
        level = after


@given(RANGES, st.lists(KINDS, max_size=20))
def test_good_sessions_always_lead_to_the_max(bounds, kinds):
    start, maximum = bounds
    past = [Attempt(start, *kind[:2], kind[2]) for kind in kinds]
    for _ in range(GOOD_IN_A_ROW * (maximum - start + 1)):
        past.append(Attempt(level_today(start, maximum, past).reps, "completed", "better"))
    assert level_today(start, maximum, past).reps == maximum


def test_a_level_played_other_than_due_is_said_so_when_not_counted():
    # Two good sessions logged with an earlier --when than a session played at 3 since,
    # with no answer at its check-in: the level follows the one played, and the reason
    # says that it was not the level due (4) rather than "same as last time".
    past = history((3, BETTER), (3, GOOD), (3, NO_ANSWER))
    assert level_today(3, 15, past) == Level(
        3, "as in the last session, played at 3 where 4 was due "
           "(not counted; 0 of 2 good sessions at 3)", last_reps=3)
    # the same session at the level due changes nothing, and says so as before
    assert level_today(3, 15, history((3, BETTER), (3, GOOD), (4, NO_ANSWER))) == Level(
        4, "same as last time (last session not counted; 0 of 2 good sessions)", last_reps=4)
