"""The history as the commands use it: log, history, recording a session, the check-in."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from voicecoach.errors import HistoryError, InputError
from voicecoach.history import journal
from voicecoach.history.store import History
from voicecoach.live.checkin import ANSWER_S, ON_SCREEN, check_in
from voicecoach.plan.phrases import load_phrases
from voicecoach.routine import load_routine

from fakes import FakeClock

UTC = dt.timezone.utc
QUESTION = load_phrases("en").say("check_in")


def run_check_in(answers: dict[float, str], spoken_s: float = 4.0):
    """Run the check-in with commands arriving at given seconds; returns (felt, log)."""
    clock, log = FakeClock(tick_s=0), []
    start = clock.now

    def wait(timeout_s):
        due = [t for t in sorted(answers) if start + t <= clock.now + timeout_s]
        if due:
            clock.now = max(clock.now, start + due[0])
            return answers.pop(due[0])
        clock.now += timeout_s
        return None

    def speak(text):
        log.append(("say", text))
        return spoken_s
    felt = check_in(QUESTION, speak, wait, lambda text: log.append(("note", text)), clock)
    return felt, log, clock.now - start


def test_the_check_in_asks_and_takes_a_key():
    felt, log, took = run_check_in({1.0: "felt-same"})
    assert felt == "same"
    assert log == [("note", ON_SCREEN), ("say", QUESTION)]
    assert "1 better" in ON_SCREEN and "2 the same" in ON_SCREEN and "3 worse" in ON_SCREEN
    assert "1 for better" in QUESTION and "3 for worse" in QUESTION
    assert took == pytest.approx(1.0)


def test_no_answer_in_time_is_unknown():
    felt, _, took = run_check_in({20.0: "felt-better"}, spoken_s=4.0)
    assert felt == "unknown"
    assert took == pytest.approx(4.0 + ANSWER_S)


def test_other_commands_are_ignored_and_q_skips():
    assert run_check_in({0.5: "next", 1.0: "pause", 2.0: "felt-worse"})[0] == "worse"
    assert run_check_in({0.5: "quit", 2.0: "felt-better"})[0] == "unknown"


def test_log_records_a_session_from_an_exported_file():
    record = journal.log_session("back-pain", "better", "3", "2026-11-30T18:00+01:00")
    with History.open(write=False) as history:
        assert history.sessions() == [record]
    assert record.started_at == dt.datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
    assert (record.source, record.felt, record.pain, record.length_s) == ("log", "better", 3, None)
    assert record.levels_by_name == {e.name: e.reps for e in load_routine("back-pain").exercises}


@pytest.mark.parametrize("felt, pain, when, message", [
    ("great", None, None, "--felt: must be one of better, same, worse, got 'great'"),
    (None, "11", None, "--pain: must be a whole number from 0 to 10, got 11"),
    (None, "-1", None, "--pain: must be a whole number from 0 to 10, got -1"),
    (None, None, "yesterday", "--when: not an ISO-8601 time, got 'yesterday' "
                              "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)"),
])
def test_bad_log_options_are_one_line_and_record_nothing(felt, pain, when, message, user_dirs):
    with pytest.raises(InputError) as caught:
        journal.log_session("back-pain", felt, pain, when)
    assert str(caught.value) == message
    with History.open(write=False) as history:
        assert history.sessions() == []


def test_a_live_session_is_recorded_with_where_and_why_it_stopped(tmp_path):
    routine = tmp_path / "mine.yaml"
    routine.write_text("title: Mine\nexercises:\n  - name: Reach\n    cue: Reach up.\n    reps: 4\n")
    started = dt.datetime(2026, 12, 1, 8, 30, 15, 250000, tzinfo=UTC)
    assert journal.record_live(str(routine), load_routine(str(routine)), started_at=started,
                               length_s=61.23456, outcome="stopped", stopped_at="Reach",
                               stop_reason="quit") is None
    listed = json.loads(journal.show_history(str(routine), as_json=True))
    assert listed == [{
        "id": 1, "routine": str(routine.resolve()), "routine_digest": journal.routine_identity(str(routine))[1],
        "started_at": "2026-12-01T08:30:15+00:00", "length_s": 61.235, "levels": {"Reach": 4},
        "outcome": "stopped", "stopped_at": "Reach", "stop_reason": "quit", "felt": "unknown",
        "pain": None, "source": "live"}]


def test_recording_into_an_unusable_data_dir_is_one_warning(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "a-file" / "data"))
    warning = journal.record_live("back-pain", load_routine("back-pain"),
                                  started_at=dt.datetime.now(UTC), length_s=5, outcome="completed")
    assert warning.startswith("Warning: cannot use the data folder for the history: ")
    assert "; this session is not recorded (to add it later: voicecoach log back-pain --when " \
        in warning
    assert "\n" not in warning


def test_a_corrupt_history_is_refused_by_history_and_log(user_dirs):
    path = user_dirs / "data" / "history.db"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"garbage" * 100)
    with pytest.raises(HistoryError, match=r"^the history .*history.db is damaged \(file is not a database\)"):
        journal.show_history()
    with pytest.raises(HistoryError):
        journal.log_session("back-pain", "same")
    assert path.read_bytes() == b"garbage" * 100


def test_history_without_sessions_says_so():
    assert journal.show_history() == "No sessions recorded yet."
    assert journal.show_history(as_json=True) == "[]"


@pytest.mark.parametrize("text, value", [(None, None), ("fresh", "fresh"), ("7", 7)])
def test_level_option(text, value):
    assert journal.parse_level(text) == value


@pytest.mark.parametrize("text", ["0", "-2", "high", "3.5"])
def test_a_bad_level_option_is_refused(text):
    with pytest.raises(InputError, match=r"^--level: must be 'fresh' or a whole number"):
        journal.parse_level(text)
