"""The programme over weeks: pain scores that rise or run high, the weekly rhythm, and what
the intro and ``history`` say of them."""

from __future__ import annotations

import datetime as dt

import pytest

from voicecoach.cli import cli
from voicecoach.history import programme, report
from voicecoach.history.store import SessionRecord
from voicecoach.plan import pain, rhythm
from voicecoach.plan.notes import intro_notes
from voicecoach.plan.phrases import load_phrases
from voicecoach.routine import load_routine
from voicecoach.session.request import SessionRequest, resolve

from support import cli_runner

UTC = dt.timezone.utc
FIVE = ["Pelvic tilt", "Cat-cow", "Knee rolls", "Single leg hug", "Double leg hug"]
MONDAY = dt.date(2026, 11, 2)


def session(day: int, pain_score: int | None = None, routine: str = "back-pain", reps: int = 3,
            **changes) -> SessionRecord:
    """A session ``day`` days after Monday 2 November 2026, 18:00 UTC."""
    when = dt.datetime(2026, 11, 2, 18, tzinfo=UTC) + dt.timedelta(days=day)
    fields = dict(routine=routine, routine_digest="0" * 64, started_at=when, length_s=600,
                  levels={name: reps for name in FIVE}, felt="same", pain=pain_score)
    return SessionRecord(**{**fields, **changes})


# -- pain -------------------------------------------------------------------------------------

@pytest.mark.parametrize("scores, rise", [
    ([2, 3, 4], pain.Rise(2, 4)),
    ([2, 5, 4], pain.Rise(2, 4)),      # the latest is 2 above the first of the three
    ([1, 1, 2, 3, 4], pain.Rise(2, 4)),  # only the last three count
    ([2, 3, 3], None),
    ([5, 4, 3], None),
    ([2, 4], None),                    # fewer than three scores
    ([4, 2, 3], None),
])
def test_pain_rising_by_two_over_the_last_three_scores(scores, rise):
    assert pain.rising([session(i, p) for i, p in enumerate(scores)]) == rise


def test_sessions_without_a_score_are_passed_over_for_the_rise():
    past = [session(0, 2), session(1, None), session(2, 3), session(3, None), session(4, 4)]
    assert pain.rising(past) == pain.Rise(2, 4)


@pytest.mark.parametrize("scores, high", [([3, 8], 8), ([10], 10), ([9, 7], None), ([9, None], None)])
def test_a_high_score_is_the_last_sessions(scores, high):
    assert pain.high([session(i, p) for i, p in enumerate(scores)]) == high


def test_the_pain_trend_over_a_period():
    assert pain.trend([session(0, 2), session(1, None), session(2, 5)]) == "rising"
    assert pain.trend([session(0, 5), session(2, 1)]) == "falling"
    assert pain.trend([session(0, 3), session(2, 3)]) == "steady"
    assert pain.trend([session(0, 3), session(1)]) == "none"


# -- the weekly rhythm --------------------------------------------------------------------------

def weeks_of(days: list[int], today: dt.date, per_week: int = 3, **changes) -> list[rhythm.Week]:
    return rhythm.weeks([session(day, **changes) for day in days], per_week, today, UTC)


def test_weeks_run_monday_to_sunday_from_the_first_sessions():
    found = weeks_of([0, 2, 6, 8, 21], dt.date(2026, 11, 24))
    assert [(w.label, w.done, w.met, w.current) for w in found] == [
        ("2026-W45", 3, True, False), ("2026-W46", 1, False, False),
        ("2026-W47", 0, False, False), ("2026-W48", 1, False, True)]


def test_quit_sessions_do_not_count_and_stopped_for_pain_do():
    quit_ = weeks_of([0], MONDAY, outcome="stopped", stop_reason="quit", stopped_at="Cat-cow")
    hurt = weeks_of([0], MONDAY, outcome="stopped", stop_reason="pain", stopped_at="Cat-cow")
    assert (quit_[0].done, hurt[0].done) == (0, 1)


@pytest.mark.parametrize("days, today, streak", [
    ([0, 1, 2, 7, 8, 9], dt.date(2026, 11, 16), 2),      # two weeks met; this week not yet broken
    ([0, 1, 2, 7, 8, 9, 14, 15, 16], dt.date(2026, 11, 18), 3),  # this week met counts
    ([0, 1, 2, 7, 14, 15, 16], dt.date(2026, 11, 23), 1),  # the short week broke it
    ([0, 1], dt.date(2026, 11, 4), 0),
])
def test_the_streak_is_the_weeks_met_in_a_row(days, today, streak):
    assert rhythm.streak(weeks_of(days, today)) == streak


def test_adherence_is_over_the_last_four_finished_weeks_each_up_to_its_plan():
    days = [0, 1, 2, 3, 4, 5,  7,  14, 15, 16,  21, 22,  28, 29, 30, 31]  # 6, 1, 3, 2, then 4
    found = weeks_of(days, dt.date(2026, 12, 2))
    assert rhythm.adherence(found) == (3 + 1 + 3 + 2, 12)  # six sessions count as three
    assert rhythm.adherence(weeks_of([0], MONDAY)) is None  # no week has finished yet


def test_the_week_after_a_short_one_says_so_once():
    assert rhythm.fell_short(weeks_of([0, 1], dt.date(2026, 11, 9))).done == 2
    assert rhythm.fell_short(weeks_of([0, 1, 7], dt.date(2026, 11, 10))) is None  # said already
    assert rhythm.fell_short(weeks_of([0, 1, 2], dt.date(2026, 11, 9))) is None  # met


# -- the intro ------------------------------------------------------------------------------------

def test_the_intro_notes_in_english_and_german():
    past = [session(0, 2), session(1, 3), session(2, 8)]
    english = intro_notes(past, 5, load_phrases("en"), dt.date(2026, 11, 9), UTC)
    assert english == [
        "Last time you gave your pain 8 out of 10. Today it may be better to rest, or to ask a "
        "doctor or physiotherapist before you go on. If you do go on, go gently, and stop if it hurts.",
        "Your pain has gone up from 2 to 8 over the last three sessions. Please speak to a doctor "
        "or physiotherapist about it.",
        "Last week you did 3 of the 5 sessions you planned. That is all right: you are here now, "
        "and that is what counts."]
    german = intro_notes(past, 5, load_phrases("de"), dt.date(2026, 11, 9), UTC)
    assert german[0].startswith("Beim letzten Mal hast du deine Schmerzen mit 8 von 10 angegeben.")
    assert german[2] == ("Letzte Woche hast du 3 von 5 geplanten Einheiten geschafft. Das ist in "
                         "Ordnung: Jetzt bist du hier, und das zählt.")
    assert all("?" not in note for note in english + german)  # it asks nothing


def test_a_calm_history_adds_nothing():
    past = [session(0, 2), session(1, 2), session(2, 3)]
    assert intro_notes(past, 3, load_phrases("en"), dt.date(2026, 11, 5), UTC) == []
    assert intro_notes(past, None, load_phrases("en"), dt.date(2026, 11, 20), UTC) == []


def _record(day: int, **changes) -> None:
    from voicecoach.history.journal import routine_identity
    from voicecoach.history.store import History
    name, digest = routine_identity("back-pain")
    with History.open() as history:
        history.record(session(day, routine=name, routine_digest=digest, **changes))


def test_the_session_after_pain_8_says_so_and_still_plays(fake_synth):
    _record(0, pain_score=8, felt="worse")
    today = resolve(SessionRequest("back-pain", engine="espeak"), synthesizer=fake_synth)
    assert "Last time you gave your pain 8 out of 10." in today.routine.intro
    builtin = load_routine("back-pain").intro
    assert today.routine.intro.startswith(builtin + " Last time")  # after the welcome
    assert today.levels["Pelvic tilt"].reason == "start level: last session pain 8"
    assert len(today.routine.exercises) == 5  # the whole session, as ever


def test_a_routine_without_levels_gets_the_notes_too(fake_synth, tmp_path):
    from voicecoach.history.journal import todays_routine
    from voicecoach.routine import parse_routine
    routine = parse_routine("title: Plain\nintro: Hi.\nschedule: {per_week: 4}\n"
                            "exercises:\n  - name: Stretch\n")
    assert routine.per_week == 4
    assert programme.with_programme_notes(routine, [session(0, 9)], today=dt.date(2026, 11, 3)).intro \
        .startswith("Hi. Last time you gave your pain 9 out of 10.")
    assert todays_routine("back-pain", routine)[0].intro == "Hi."  # no history: nothing to say


# -- history ---------------------------------------------------------------------------------------

def test_history_at_80_columns_cuts_nothing():
    past = [session(0, 2), session(2, 3, reps=4),
            session(4, 5, reps=4, outcome="stopped", stopped_at="Single leg hug", stop_reason="pain",
                    felt="worse"),
            session(7, None, levels={"Pelvic tilt": 3, "Cat-cow": 3, "Knee rolls": 4,
                                     "Single leg hug": 3, "Double leg hug": 3})]
    text = report.report(past, 80, UTC, per_week_of=lambda name: 3, today=dt.date(2026, 11, 10))
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines), text
    assert "…" not in text
    assert lines[:6] == [
        "Date              Length  Felt   Pain  Ended                   Levels",
        "2026-11-02 18:00  10:00   same   2     done                    all 3",
        "2026-11-04 18:00  10:00   same   3     done                    all 4",
        "2026-11-06 18:00  10:00   worse  5     pain in Single leg hug  all 4",
        "2026-11-09 18:00  10:00   same   -     done                    3/3/4/3/3",
        "Levels: Pelvic tilt, Cat-cow, Knee rolls, Single leg hug, Double leg hug"]
    assert lines[-2:] == ["Weeks (3 a week):  2026-W45 3/3 ✓  2026-W46 1/3 so far",
                          "Streak: 1 week met in a row; last 1 weeks: 3 of 3 sessions (100%)"]


def test_history_says_rising_pain_with_the_advice():
    past = [session(0, 1), session(1, 2), session(2, 4)]
    text = report.report(past, 80, UTC, today=dt.date(2026, 11, 5))
    assert ("Pain has gone up from 1 to 4 over the last three sessions: please speak to a\n"
            "doctor or physiotherapist.") in text
    assert "Weeks" not in text  # no schedule: no weeks


def test_history_on_the_command_line_uses_the_settings_schedule(tmp_path, monkeypatch):
    monkeypatch.setenv("VOICECOACH_CONFIG_DIR", str(tmp_path))
    (tmp_path / "config.yaml").write_text("schedule: {per_week: 2}\n")
    _record(0, pain_score=1)
    shown = cli_runner().invoke(cli, ["history", "back-pain"])
    assert shown.exit_code == 0, shown.output
    assert "Weeks (2 a week):  2026-W45 1/2" in shown.stdout


@pytest.mark.slow
def test_the_plot_keeps_its_legend_off_the_lines_and_draws_every_exercise():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    from matplotlib import pyplot
    figure = report._figure(pyplot, [session(0), session(2), session(4, reps=4)])
    try:
        figure.canvas.draw()
        levels = figure.axes[0]
        lines = levels.get_lines()
        assert len(lines) == 5
        # five exercises at one level: five lines apart, in the order of the routine
        starts = [line.get_ydata()[0] for line in lines]
        assert starts == sorted(starts) and len(set(starts)) == 5
        assert max(starts) - min(starts) < 0.5  # still read as the same level
        legend = figure.legends[0].get_window_extent()
        assert not legend.overlaps(levels.get_window_extent())
    finally:
        pyplot.close(figure)
