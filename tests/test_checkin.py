"""The check-in's rules without a server: the form, exactly one session per episode even
after a crash between the two writes, and the token file."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3

import pytest

from voicecoach.errors import InputError
from voicecoach.feed import checkin
from voicecoach.feed.publish import publish
from voicecoach.feed.today import resolve_today
from voicecoach.session.request import SessionRequest
from voicecoach.history.store import History
from voicecoach.paths import data_dir
from voicecoach.serve.secret import TOKEN_NAME, feed_token

from fakes import FakeSynthesizer
from support import TEST_DATA

ROUTINE = str(TEST_DATA / "feed-small.yaml")


@pytest.fixture
def episode(tmp_path):
    folder = tmp_path / "feed"
    folder.mkdir()
    synth = FakeSynthesizer()
    (made,) = publish(folder, [lambda: resolve_today(SessionRequest(ROUTINE, engine="espeak"), synthesizer=synth)],
                      day=dt.date(2026, 3, 1)).made
    return made


def _sessions():
    with History.open(write=False) as history:
        return history.sessions()


def test_the_form_is_read_strictly(episode):
    read = checkin.parse_answers
    assert read({"felt": ["same"], "pain": [""], "ended": ["done"]}, episode) == checkin.Answers("same")
    stopped = read({"felt": ["worse"], "pain": ["7"], "ended": ["Knee hug"], "hurt": ["yes"]}, episode)
    assert (stopped.stop_reason, stopped.pain, stopped.stopped_at) == ("pain", 7, "Knee hug")
    assert read({"felt": ["better"], "ended": ["Breathe"]}, episode).stop_reason == "quit"
    for form, message in (({}, "better, the same or worse"), ({"felt": ["good"]}, "better, the same or worse"),
                          ({"felt": ["same"], "pain": ["11"]}, "from 0 to 10"),
                          ({"felt": ["same"], "pain": ["-1"]}, "from 0 to 10"),
                          ({"felt": ["same"], "ended": ["Cartwheel"]}, "one of the episode's exercises")):
        with pytest.raises(InputError, match=message):
            read(form, episode)


def test_a_second_check_in_records_nothing_and_the_first_answers_stand(episode):
    first = checkin.check_in(episode, checkin.Answers("better", 2))
    second = checkin.check_in(episode, checkin.Answers("worse", 9))
    assert first.first and not second.first and second.answers == checkin.Answers("better", 2)
    (session,) = _sessions()
    assert (session.felt, session.pain, session.source, session.levels) == ("better", 2, "log", episode.levels)
    assert checkin.recorded(episode).answers == first.answers


def _pending(episode, answers, started_at):
    """The ledger as a crash between its two writes leaves it."""
    checkin.recorded(episode)  # makes the ledger
    with sqlite3.connect(data_dir() / checkin.LEDGER_NAME) as ledger:
        ledger.execute("INSERT INTO checkins VALUES (?,?,?,0)",
                       (episode.id, started_at.isoformat(), json.dumps(answers.__dict__)))


def test_a_check_in_cut_short_before_the_history_is_finished_once(episode):
    when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc)
    _pending(episode, checkin.Answers("same", 1), when)
    done = checkin.check_in(episode, checkin.Answers("worse"))
    assert done.first and done.answers == checkin.Answers("same", 1)
    (session,) = _sessions()
    assert (session.started_at, session.felt) == (when, "same")


def test_a_check_in_cut_short_after_the_history_is_not_recorded_twice(episode):
    from voicecoach.history.journal import log_played
    when = dt.datetime(2026, 3, 1, 9, 30, tzinfo=dt.timezone.utc)
    answers = checkin.Answers("better", 3)
    log_played(episode.source, episode.routine_digest, dict(episode.levels), felt="better", pain=3,
               started_at=when)
    _pending(episode, answers, when)
    checkin.check_in(episode, answers)
    assert len(_sessions()) == 1
    assert checkin.recorded(episode) is not None


def test_the_token_is_kept_private_and_replaced_on_request():
    token = feed_token()
    path = data_dir() / TOKEN_NAME
    assert len(token) >= 22 and path.stat().st_mode & 0o777 == 0o600
    assert feed_token() == token
    path.chmod(0o644)
    warned = []
    assert feed_token(warn=warned.append) == token and path.stat().st_mode & 0o777 == 0o600
    assert "readable by others" in warned[0]
    assert feed_token(new=True) not in (token, None) and feed_token() != token
