"""Cutting the rendered stream for live playback, and position lookups (fake speech)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from voicecoach.live.playplan import Guide, segments
from voicecoach.routine import parse_routine
from voicecoach.session.prepare import prepare
from voicecoach.plan.model import CHIME, HOLD, REST, SPEECH

from fakes import FakeSynthesizer

ROUTINE = """
title: Plan test
intro: Hello there.
outro: All done now.
rest: 25s
exercises:
  - name: Reach
    cue: Reach up high.
    hold: 4s
    release: And relax.
    reps: 2
  - name: Bend
    cue: Bend down slowly.
    hold: 30s
"""


@pytest.fixture(scope="module")
def session():
    return prepare(parse_routine(ROUTINE), synthesizer=FakeSynthesizer())


@pytest.fixture(scope="module")
def stream(session):
    return np.concatenate(list(session.chunks()))


def _segment_audio(session, begin, end):
    return np.concatenate(list(session.chunks(begin, end)))


def test_segments_cover_the_stream_back_to_back_and_play_exactly_the_render(session, stream):
    plan = segments(session.timeline)
    assert plan[0][0] == 0 and plan[-1][1] == session.timeline.total
    assert all(a[1] == b[0] for a, b in zip(plan, plan[1:]))
    played = np.concatenate([_segment_audio(session, a, b) for a, b in plan])
    assert np.array_equal(played, stream)


def test_every_cut_lies_in_digital_silence_and_every_cue_onset_is_a_cut(session, stream):
    plan = segments(session.timeline)
    cuts = {a for a, _ in plan[1:]}
    # whatever jitter there is when the next stream starts falls on silence
    assert all(_silent_on_one_side(stream, cut, round(0.05 * session.sample_rate)) for cut in cuts)
    gap = round(0.2 * session.sample_rate)
    onsets = {e.start for e in session.timeline.events
              if e.kind in (SPEECH, CHIME) and e.start > 0 and not stream[e.start - gap: e.start].any()}
    assert onsets and onsets <= cuts


def test_long_silences_are_cut_so_no_segment_is_much_longer_than_the_limit(session):
    rate = session.sample_rate
    plan = segments(session.timeline, max_segment_s=10.0)
    rests = [e for e in session.timeline.events if e.kind in (HOLD, REST) and e.length > 20 * rate]
    assert len(rests) == 2  # the 25 s rest and the 30 s hold
    assert max(b - a for a, b in plan) <= 10 * rate + 5 * rate  # a cue plus at most the limit
    inside = [a for a, _ in plan if any(r.start < a < r.end for r in rests)]
    assert len(inside) >= 4


def test_segments_from_a_position_start_there_and_can_stop_early(session, stream):
    middle = session.timeline.chapters[2].start + 1234
    plan = segments(session.timeline, middle)
    assert plan[0][0] == middle and plan[-1][1] == session.timeline.total
    first = segments(session.timeline, 0, session.timeline.chapters[1].start)
    assert first[-1][1] == session.timeline.chapters[1].start
    assert np.array_equal(np.concatenate([_segment_audio(session, a, b) for a, b in first]),
                          stream[: session.timeline.chapters[1].start])


@settings(max_examples=40, deadline=None)
@given(start_fraction=st.floats(0, 1), min_gap_s=st.sampled_from([0.05, 0.2, 0.3]),
       max_s=st.sampled_from([2.0, 7.5, 20.0]))
def test_any_start_and_settings_replay_the_render_exactly(session, stream, start_fraction, min_gap_s, max_s):
    start = int(start_fraction * (session.timeline.total - 1))
    plan = segments(session.timeline, start, min_gap_s=min_gap_s, max_segment_s=max_s)
    assert plan[0][0] == start and all(a[1] == b[0] for a, b in zip(plan, plan[1:]))
    assert all(_silent_on_one_side(stream, a, round(min(min_gap_s, 0.05) * session.sample_rate))
               for a, _ in plan[1:])
    assert min(b - a for a, b in plan) > 0


def _silent_on_one_side(stream, cut, width):
    """Two streams meeting at ``cut`` a little early or late overlap or part on silence."""
    return not stream[cut - width: cut].any() or not stream[cut: cut + width].any()


def test_status_names_the_exercise_step_and_time_left(session):
    guide = Guide(session.timeline)
    rate = session.sample_rate
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    status = guide.status(hold.start + rate)
    assert (status.chapter, status.exercise_number, status.exercise_count) == ("Reach", 1, 2)
    assert status.step == "hold" and status.text == "Reach up high."
    assert status.seconds_left == pytest.approx(3.0)
    intro = guide.status(10)
    assert (intro.chapter, intro.exercise_number, intro.step, intro.text) == \
        ("Introduction", None, "say", "Hello there.")
    rest = next(e for e in session.timeline.events if e.kind == REST)
    assert guide.status(rest.end - rate // 2).step == "rest"
    assert guide.status(rest.end - rate // 2).seconds_left == pytest.approx(0.5)


def test_resume_point_repeats_a_cue_that_was_cut_off_but_keeps_a_hold_running(session):
    guide = Guide(session.timeline)
    cue = next(e for e in session.timeline.events if e.kind == SPEECH and e.text == "Reach up high.")
    assert guide.resume_point(cue.start + cue.length // 2) == cue.start
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    quiet = hold.start + hold.length // 2 - 100  # between "Halfway" marks: 4 s hold has none
    assert guide.resume_point(quiet) == quiet


def test_last_instruction_skips_the_counting_inside_holds(session):
    guide = Guide(session.timeline)
    hold = next(e for e in session.timeline.events if e.kind == HOLD)
    cue = next(e for e in session.timeline.events if e.kind == SPEECH and e.text == "Reach up high.")
    assert guide.last_instruction_start(hold.end - 10) == cue.start  # not "One", said just before
    assert "One" not in [e.text for e in guide.instructions]


def test_the_place_after_an_exercise_is_the_next_exercise(session):
    guide = Guide(session.timeline)
    rest = next(e for e in session.timeline.events if e.kind == REST)
    assert guide.chapter_at(rest.start + 10) == 1
    assert guide.place_chapter(rest.start + 10) == 2  # Reach is done: resume at Bend
    assert guide.place_chapter(session.timeline.chapters[1].start + 5) == 1
    assert guide.place_chapter(5) == 0
