"""The scheduler: exact examples, and hypothesis properties over random routines and
random speech lengths (a random pure function of the text stands in for a voice)."""

from __future__ import annotations

import dataclasses

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from voicecoach.plan.phrases import load_phrases
from voicecoach.routine import Exercise, Routine, Step
from voicecoach.plan.model import CHIME, HOLD, REST, SPEECH
from voicecoach.plan.table import format_table
from voicecoach.plan.timeline import GAP_S, REP_GAP_S, build_timeline, script
from voicecoach.text import clock

RATE = 22_050
# Between two reps the pause is REP_GAP_S on top of the usual gap before a cue.
GAP, REP_GAP = round(GAP_S * RATE), round(REP_GAP_S * RATE) + round(GAP_S * RATE)
MARKS = ("Halfway.", "Three", "Two", "One")
CHIMES = {"start": 500, "hold_end": 300, "next": 400, "end": 700}


def per_word(samples: int):
    """Speech lasting ``samples`` per word: a voice of fixed speed."""
    return lambda text: samples * len(text.split())


def plan(routine: Routine, speech=per_word(1000), chimes=CHIMES.get):
    return build_timeline(routine, speech, chimes, RATE)


def split_marks(timeline):
    """(main track, {index in track of a hold/rest: the words spoken inside it})."""
    track, marks = [], {}
    for event in timeline.events:
        inside = track and track[-1].kind in (HOLD, REST) and event.start < track[-1].end
        if event.kind == SPEECH and inside:
            marks.setdefault(len(track) - 1, []).append(event)
        else:
            track.append(event)
    return track, marks


def rounds(exercise: Exercise):
    """(set, side, rep) in the order they are done: alternating, side by side within each rep."""
    for set_number in range(1, exercise.sets + 1):
        if exercise.alternate and len(exercise.sides) > 1:
            for rep in range(1, exercise.reps + 1):
                for side in exercise.sides:
                    yield set_number, side, rep
            continue
        for side in exercise.sides or (None,):
            for rep in range(1, exercise.reps + 1):
                yield set_number, side, rep


def written(routine: Routine) -> list[tuple[str, int, bool]]:
    """Every hold and rest the routine asks for, in order: kind, samples, counted down."""
    out = []
    for index, exercise in enumerate(routine.exercises):
        for set_number, side, rep in rounds(exercise):
            out += [(HOLD, round(s.hold_s * RATE), s.count) for s in exercise.steps if s.hold_s]
            last_of_set = side == (exercise.sides or (None,))[-1] and rep == exercise.reps
            if last_of_set and set_number < exercise.sets and exercise.rest_between_sets_s:
                out.append((REST, round(exercise.rest_between_sets_s * RATE), True))
        if index < len(routine.exercises) - 1 and routine.rest_s:
            out.append((REST, round(routine.rest_s * RATE), True))
    return out


def written_intervals(routine: Routine) -> list[tuple[str, int]]:
    return [(kind, samples) for kind, samples, _ in written(routine)]


def written_counts(routine: Routine) -> list[bool]:
    return [counted for _, _, counted in written(routine)]


# -- exact examples ---------------------------------------------------------------------

def test_one_exercise_exactly():
    routine = Routine("T", (Exercise("Lift", (Step("Lift it.", 3.0, "Down."),), reps=2),), intro="Hi.", outro="Bye.")
    events = [(e.start, e.length, e.kind, e.text or e.sound) for e in plan(routine).events]
    t = 0
    expected = []

    def add(length, kind, what, gap=GAP):
        nonlocal t
        t += gap if expected else 0
        expected.append((t, length, kind, what))
        t += length

    add(1000, SPEECH, "Hi.")
    add(5000, SPEECH, "Next exercise: Lift. 2 repetitions.")
    add(500, CHIME, "start")
    add(2000, SPEECH, "Lift it.")
    hold = t
    add(3 * RATE, HOLD, None, gap=0)
    # "Three" would start where "Lift it." stops: left out, to keep the gap between sounds
    expected += [(hold + RATE, 1000, SPEECH, "Two"), (hold + 2 * RATE, 1000, SPEECH, "One")]
    add(300, CHIME, "hold_end", gap=0)
    add(1000, SPEECH, "Down.")
    add(4000, SPEECH, "Last one. Lift it.", gap=REP_GAP)
    hold = t
    add(3 * RATE, HOLD, None, gap=0)
    expected += [(hold + RATE, 1000, SPEECH, "Two"), (hold + 2 * RATE, 1000, SPEECH, "One")]
    add(300, CHIME, "hold_end", gap=0)
    add(1000, SPEECH, "Down.")
    add(1000, SPEECH, "Bye.")
    add(700, CHIME, "end")
    assert events == expected
    assert plan(routine).total == t


def test_count_words_that_would_collide_are_left_out():
    routine = Routine("T", (Exercise("Hold", (Step("Hold.", 3.0),)),))
    # "Three" is due where "Hold." stops; "Two" would end within the gap before "One" is
    # due; "One" just keeps the gap before the hold's closing chime.
    slow = {"Two": RATE - GAP + 1, "One": RATE - GAP}
    timeline = plan(routine, lambda text: slow.get(text, 1000))
    track, marks = split_marks(timeline)
    (inside,) = marks.values()
    assert [e.text for e in inside] == ["One"]
    chime = next(e for e in track if e.kind == CHIME and e.sound == "hold_end")
    assert chime.start - inside[0].end == GAP
    faster = plan(routine, lambda text: {"Two": RATE - GAP}.get(text, 1000))
    (inside,) = split_marks(faster)[1].values()
    assert [e.text for e in inside] == ["Two", "One"]


def test_a_count_word_keeps_the_gap_after_the_cue_before_the_hold():
    def words(hold_s):
        routine = Routine("T", (Exercise("Hold", (Step("Hold.", hold_s),)),))
        return [e.text for inside in split_marks(plan(routine))[1].values() for e in inside]
    assert words(2.0) == ["One"]  # "Two" would start where the cue stops
    assert words(2.0 + GAP_S) == ["Two", "One"]  # now it starts a gap after it
    assert words(2.0 + GAP_S - 0.01) == ["One"]


def test_long_holds_get_halfway_and_count_false_gets_nothing():
    routine = Routine("T", (Exercise("A", (Step("A.", 30.0), Step("B.", 30.0, count=False))),))
    track, marks = split_marks(plan(routine))
    holds = [i for i, e in enumerate(track) if e.kind == HOLD]
    assert [e.text for e in marks[holds[0]]] == ["Halfway.", "Three", "Two", "One"]
    assert marks[holds[0]][0].start == track[holds[0]].start + 15 * RATE
    assert holds[1] not in marks


def test_the_intro_is_one_cue_per_sentence_with_the_normal_gap_and_script_lists_them():
    routine = Routine("T", (Exercise("Reach", (Step("Reach up."),)),),
                      intro="Welcome! Lie down. Is that comfortable? Then we start.  ")
    timeline = plan(routine)
    intro = [e for e in timeline.events if e.chapter == 0]
    assert [e.text for e in intro] == ["Welcome!", "Lie down.", "Is that comfortable?", "Then we start."]
    assert [b.start - a.end for a, b in zip(intro, intro[1:])] == [GAP] * 3
    assert intro[0].start == 0 and timeline.chapters[1].start == intro[-1].end + GAP
    assert script(routine)[:4] == [e.text for e in intro]


def test_sets_sides_rests_and_progress_words():
    exercise = Exercise("Roll", (Step("Roll to the {side}.", 1.0),), reps=4, sets=2, rest_between_sets_s=15.0,
                        sides=("right", "left"))
    routine = Routine("T", (exercise, Exercise("Next one", (Step("Go."),))), rest_s=10.0)
    spoken = [e.text for e in split_marks(plan(routine))[0] if e.kind == SPEECH and e.chapter]
    side = ["Roll to the right.", "Roll to the right.", "Two more. Roll to the right.", "Last one. Roll to the right."]
    expected_set = ["Starting on the right side.", *side, "Now the left side.",
                    *[t.replace("right", "left") for t in side]]
    assert spoken == ["Next exercise: Roll. 2 sets of 4 repetitions on each side.", "Set 1 of 2.",
                          *expected_set, "Rest for 15 seconds.", "Set 2 of 2.", *expected_set,
                          "Well done. Rest for 10 seconds. Up next: Next one.",
                          "Next exercise: Next one. 1 repetition.", "Go.", load_phrases("en").say("outro")]


def test_alternating_sides_rep_by_rep_in_the_exact_order():
    rolls = Exercise("Knee rolls", (Step("Roll to the {side}.", 1.0, "Back to the middle."),), reps=4,
                     sides=("right", "left"), alternate=True)
    spoken = [e.text for e in split_marks(plan(Routine("T", (rolls,))))[0] if e.kind == SPEECH and e.chapter]
    assert spoken[:-1] == [
        "Next exercise: Knee rolls. 4 repetitions on each side, alternating sides.",
        "Starting on the right side.",
        "Roll to the right.", "Back to the middle.", "Roll to the left.", "Back to the middle.",
        "Roll to the right.", "Back to the middle.", "Roll to the left.", "Back to the middle.",
        "Two more on each side. Roll to the right.", "Back to the middle.",
        "Roll to the left.", "Back to the middle.",
        "Last one on each side. Roll to the right.", "Back to the middle.",
        "Roll to the left.", "Back to the middle."]


def test_alternating_cues_without_a_side_are_led_by_it_and_sets_start_again():
    lift = Exercise("Leg lift", (Step("Lift your leg.", 1.0),), reps=2, sets=2, rest_between_sets_s=5.0,
                    sides=("left", "right"), alternate=True)
    track, _ = split_marks(plan(Routine("T", (lift,))))
    spoken = [e.text for e in track if e.kind == SPEECH and e.chapter]
    one_set = ["Starting on the left side.", "Lift your leg.", "Now the right side. Lift your leg.",
               "Last one on each side. Now the left side. Lift your leg.", "Now the right side. Lift your leg."]
    assert spoken[:-1] == ["Next exercise: Leg lift. 2 sets of 2 repetitions on each side, alternating sides.",
                            "Set 1 of 2.", *one_set, "Rest for 5 seconds.", "Set 2 of 2.", *one_set]
    german = [e.text for e in build_timeline(Routine("T", (lift,), language="de"), per_word(1000), CHIMES.get,
                                             RATE).events if e.kind == SPEECH and e.exercise]
    assert german[:5] == ["Nächste Übung: Leg lift. 2 Sätze mit je 2 Wiederholungen auf jeder Seite, immer "
                          "im Wechsel.", "Satz 1 von 2.", "Wir beginnen links.", "Lift your leg.",
                          "Jetzt rechts. Lift your leg."]
    assert "Ein letztes Mal auf jeder Seite. Jetzt links. Lift your leg." in german


def test_alternate_without_two_sides_plays_as_usual():
    one = Exercise("A", (Step("A."),), reps=2, sides=("left",))
    assert plan(Routine("T", (one,))).events == plan(Routine("T", (dataclasses.replace(one, alternate=True),))).events


def test_chapters_start_on_their_first_sound():
    routine = Routine("T", (Exercise("A", (Step("A."),)), Exercise("B", (Step("B."),))), rest_s=5.0)
    timeline = plan(routine)
    assert [c.title for c in timeline.chapters] == ["Introduction", "A", "B", "Finish"]
    starts = {c.start for c in timeline.chapters}
    assert starts <= {e.start for e in timeline.events}
    b = timeline.chapters[2]
    assert next(e for e in timeline.events if e.start == b.start).text == "Next exercise: B. 1 repetition."


def test_plan_as_json_and_as_a_table():
    routine = Routine("Table", (Exercise("A", (Step("Lift.", 2.0),)),), intro="Hi.", outro="Bye.")
    timeline = plan(routine)
    data = timeline.to_dict()
    assert set(data) == {"title", "total_s", "sample_rate", "chapters", "events"}
    assert data["total_s"] == round(timeline.total / RATE, 6)
    assert data["events"][0] == {"start_s": 0.0, "duration_s": round(1000 / RATE, 6), "kind": "speech",
                                 "text": "Hi.", "exercise": None}
    assert {"start_s", "duration_s", "kind", "sound", "exercise"} == set(data["events"][2])
    hold = next(e for e in data["events"] if e["kind"] == "hold")
    assert hold == {"start_s": hold["start_s"], "duration_s": 2.0, "kind": "hold", "exercise": "A"}
    assert all(round(e["start_s"] * RATE) == ev.start for e, ev in zip(data["events"], timeline.events))
    lines = format_table(timeline).splitlines()
    assert lines[0] == "Table"
    assert lines[1].split() == ["start", "length", "kind", "exercise", "what"]
    assert lines[2].split() == ["0:00.000", "0.05s", "speech", "-", "Hi."]
    assert lines[-1] == f"Total: {clock(timeline.total_s)} ({timeline.total_s:.3f} s), 1 exercise"
    assert len(lines) == len(timeline.events) + 3


def test_clock():
    assert clock(0) == "0:00.000"
    assert clock(61.5) == "1:01.500"
    assert clock(3725.25) == "1:02:05.250"


# -- properties ---------------------------------------------------------------------------

words = st.sampled_from(["Lift", "your", "arm", "slowly", "breathe", "in", "and", "out", "relax", "now"])
texts = st.lists(words, min_size=1, max_size=6).map(" ".join)
durations = st.one_of(st.integers(1, 25).map(float), st.floats(0.5, 30).map(lambda s: round(s, 3)))
steps = st.builds(Step, say=texts, hold_s=st.none() | durations, release=st.none() | texts, count=st.booleans())
exercises = st.builds(
    Exercise, name=texts, steps=st.lists(steps, min_size=1, max_size=3).map(tuple),
    instructions=st.none() | texts, reps=st.integers(1, 4), sets=st.integers(1, 3),
    rest_between_sets_s=st.none() | durations, sides=st.sampled_from([(), ("left",), ("left", "right")]),
    alternate=st.booleans())
routines = st.builds(Routine, title=texts, exercises=st.lists(exercises, min_size=1, max_size=3).map(tuple),
                     intro=texts, outro=texts, rest_s=st.none() | durations)
voices = st.functions(like=lambda text: 0, returns=st.integers(1, 3 * RATE), pure=True)
chime_lengths = st.fixed_dictionaries({name: st.integers(0, RATE) for name in CHIMES})
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(routines, voices, chime_lengths)
def test_speech_never_overlaps(routine, voice, chimes):
    speech = sorted((e for e in plan(routine, voice, chimes.get).events if e.kind == SPEECH),
                    key=lambda e: e.start)
    for before, after in zip(speech, speech[1:]):
        assert before.end <= after.start, (before, after)


@PROPERTY
@given(routines, voices, chime_lengths)
def test_holds_and_rests_start_when_the_cue_stops_and_last_as_written(routine, voice, chimes):
    track, _ = split_marks(plan(routine, voice, chimes.get))
    intervals = [(i, e) for i, e in enumerate(track) if e.kind in (HOLD, REST)]
    assert [(e.kind, e.length) for _, e in intervals] == written_intervals(routine)
    for i, interval in intervals:
        cue = track[i - 1]
        assert cue.kind == SPEECH and cue.end == interval.start
        if interval.kind == HOLD:
            chime = track[i + 1]
            assert (chime.kind, chime.sound, chime.start) == (CHIME, "hold_end", interval.end)


@PROPERTY
@given(routines, voices, chime_lengths)
def test_total_is_the_sum_of_events_and_gaps(routine, voice, chimes):
    timeline = plan(routine, voice, chimes.get)
    track, _ = split_marks(timeline)
    gaps = [after.start - before.end for before, after in zip(track, track[1:])]
    assert track[0].start == 0 and track[-1].end == timeline.total
    assert set(gaps) <= {0, GAP, REP_GAP}
    assert timeline.total == sum(e.length for e in track) + sum(gaps)
    rep_gaps = sum(e.sets * (len(e.sides) * e.reps - 1) if e.alternate and len(e.sides) > 1
                   else len(e.sides or (None,)) * e.sets * (e.reps - 1) for e in routine.exercises)
    assert gaps.count(REP_GAP) == rep_gaps


@PROPERTY
@given(routines, voices, voices, chime_lengths)
def test_the_voice_rate_changes_speech_lengths_only(routine, voice, other_voice, chimes):
    one, _ = split_marks(plan(routine, voice, chimes.get))
    two, _ = split_marks(plan(routine, other_voice, chimes.get))
    assert [(e.kind, e.text, e.sound) for e in one] == [(e.kind, e.text, e.sound) for e in two]
    for a, b in zip(one, two):
        if a.kind != SPEECH:
            assert a.length == b.length, (a, b)
    speech_change = sum(b.length - a.length for a, b in zip(one, two) if a.kind == SPEECH)
    assert two[-1].end - one[-1].end == speech_change


@PROPERTY
@given(routines, voices, chime_lengths)
def test_count_words_never_collide_and_end_inside_their_hold(routine, voice, chimes):
    track, marks = split_marks(plan(routine, voice, chimes.get))
    for index, inside in marks.items():
        interval = track[index]
        assert all(e.text in MARKS for e in inside)
        assert inside[0].start >= interval.start and inside[-1].end <= interval.end
        for before, after in zip(inside, inside[1:]):
            assert before.end <= after.start
        for mark in inside:
            if mark.text != "Halfway.":  # "Three" starts 3 s before the end (to a sample's rounding)
                seconds_left = {"Three": 3, "Two": 2, "One": 1}[mark.text]
                assert abs(interval.end - mark.start - seconds_left * RATE) <= 1


@PROPERTY
@given(routines, voices, chime_lengths)
def test_every_spoken_text_was_synthesized_ahead(routine, voice, chimes):
    spoken = set(plan(routine, voice, chimes.get).spoken_texts())
    assert spoken <= set(script(routine))


@PROPERTY
@given(routines)
def test_with_a_fast_voice_every_count_word_is_spoken(routine):
    track, marks = split_marks(plan(routine, lambda text: 1))
    intervals = [i for i, e in enumerate(track) if e.kind in (HOLD, REST)]
    for index, counted in zip(intervals, written_counts(routine)):
        seconds = track[index].length / RATE
        expected = ["Halfway."] if seconds >= 20 else []
        # every word due at least a gap after the interval starts (where the cue before stops)
        expected += [word for n, word in ((3, "Three"), (2, "Two"), (1, "One"))
                     if n * RATE <= track[index].length - GAP]
        assert [e.text for e in marks.get(index, [])] == (expected if counted else [])


@PROPERTY
@given(routines, voices, chime_lengths)
def test_no_two_sounds_are_closer_than_the_gap(routine, voice, chimes):
    """Counts included: a count word never runs into the cue before it or the chime after."""
    sounds = sorted((e for e in plan(routine, voice, chimes.get).events if e.kind in (SPEECH, CHIME)),
                    key=lambda e: e.start)
    for before, after in zip(sounds, sounds[1:]):
        assert after.start - before.end >= GAP, (before, after)


def test_exercise_names_with_braces_are_spoken_as_written():
    # Names reach the rest announcements; they must never be treated as format strings.
    braced = Exercise(name="Stretch {0} and {hug}", steps=(Step("Reach up.", hold_s=2.0),),
                      sets=2, rest_between_sets_s=5.0)
    routine = Routine(title="Braces", exercises=(Exercise("Tilt", (Step("Tilt."),)), braced), rest_s=5.0)
    texts = plan(routine).spoken_texts()
    assert "Well done. Rest for 5 seconds. Up next: Stretch {0} and {hug}." in texts
    assert "Next exercise: Stretch {0} and {hug}. 2 sets of 1 repetition." in texts
