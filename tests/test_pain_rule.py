"""The pain traffic light in the level rule: 0-3 go on, 4-5 stay, 6 or more step back, and
``h`` (stopped for pain) steps back whatever the score. One case a row."""

from __future__ import annotations

import pytest

from voicecoach.plan.progression import Attempt, Level, level_today

# (what the last session was, the level after it) from a count of one good session at 5
ONE_GOOD = [Attempt(5, "completed", "same")]


@pytest.mark.parametrize("outcome, felt, stop_reason, pain, expected", [
    # 0-3: go on; the session counts as the rest of it says
    ("completed", "better", None, 0, Level(6, "up from 5 after 2 good sessions", 5)),
    ("completed", "same", None, 3, Level(6, "up from 5 after 2 good sessions", 5)),
    # a score is an answer: low pain and no check-in answer still counts as good
    ("completed", "unknown", None, 2, Level(6, "up from 5 after 2 good sessions", 5)),
    # ... but felt worse is still bad, and q still tells nothing
    ("completed", "worse", None, 1, Level(4, "down from 5: last session felt worse", 5)),
    ("stopped", "same", "quit", 2, Level(5, "same as last time (last session not counted; "
                                           "1 of 2 good sessions)", 5)),
    # 4-5: stay at the level, and the count of good sessions starts again
    ("completed", "better", None, 4, Level(5, "same as last time: pain 4 last session "
                                             "(4 or 5: stay)", 5)),
    ("completed", "same", None, 5, Level(5, "same as last time: pain 5 last session "
                                           "(4 or 5: stay)", 5)),
    ("stopped", "unknown", "quit", 5, Level(5, "same as last time: pain 5 last session "
                                              "(4 or 5: stay)", 5)),
    # 6 or more: step back, whatever the feeling
    ("completed", "better", None, 6, Level(4, "down from 5: last session pain 6", 5)),
    ("completed", "same", None, 10, Level(4, "down from 5: last session pain 10", 5)),
    # stopped for pain (h): step back, whatever the score
    ("stopped", "unknown", "pain", None, Level(4, "down from 5: last session stopped for pain", 5)),
    ("stopped", "better", "pain", 1, Level(4, "down from 5: last session stopped for pain", 5)),
    ("stopped", "unknown", "pain", 7, Level(4, "down from 5: last session stopped for pain", 5)),
    # no score: the rule as before
    ("completed", "same", None, None, Level(6, "up from 5 after 2 good sessions", 5)),
])
def test_the_pain_traffic_light(outcome, felt, stop_reason, pain, expected):
    last = Attempt(5, outcome, felt, stop_reason, pain)
    assert level_today(2, 15, ONE_GOOD + [last]) == expected


def test_a_stay_starts_the_count_again():
    stay = Attempt(5, "completed", "better", pain=4)
    good = Attempt(5, "completed", "same", pain=1)
    # good, stay, good: only one good session since the stay, so no rise yet
    assert level_today(2, 15, ONE_GOOD + [stay, good]) == Level(
        5, "same as last time (1 of 2 good sessions)", 5)
    assert level_today(2, 15, ONE_GOOD + [stay, good, good]).reps == 6


def test_high_pain_at_the_start_level_stays_at_the_start():
    assert level_today(2, 15, [Attempt(2, "completed", "same", pain=9)]) == Level(
        2, "start level: last session pain 9", 2)


@pytest.mark.parametrize("pain, light", [(None, None), (0, "go"), (3, "go"), (4, "stay"),
                                         (5, "stay"), (6, "back"), (10, "back")])
def test_each_score_has_its_light(pain, light):
    assert Attempt(3, "completed", "same", pain=pain).pain_light == light
