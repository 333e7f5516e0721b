"""The session history: real SQLite files in a temporary folder, real processes at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from mounts import read_only, run_mounted
from voicecoach.errors import ExportError, HistoryError, HistoryUnavailable, InputError
from voicecoach.history import migrations, report
from voicecoach.history.entry import parse_when
from voicecoach.history.store import FILE_NAME, History, SessionRecord, content_digest
from voicecoach.paths import data_dir

REPO = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
T0 = dt.datetime(2026, 11, 1, 18, 0, tzinfo=UTC)


def session(day: int = 0, **changes) -> SessionRecord:
    values = dict(routine="back-pain", routine_digest=content_digest("exercises: []"),
                  started_at=T0 + dt.timedelta(days=day), length_s=612.5,
                  levels={"knee rolls": 3, "bridge": 2}, felt="same")
    values.update(changes)
    return SessionRecord(**values)


def fingerprint(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def test_history_lives_in_the_data_dir(user_dirs):
    with History.open() as history:
        assert history.path == user_dirs / "data" / FILE_NAME
    assert (user_dirs / "data" / FILE_NAME).stat().st_size > 0


def test_data_dir_follows_xdg_data_home(tmp_path, monkeypatch):
    monkeypatch.delenv("VOICECOACH_DATA_DIR")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "voicecoach"
    assert (tmp_path / "xdg" / "voicecoach").stat().st_mode & 0o777 == 0o700


def test_a_session_reads_back_as_recorded(tmp_path):
    stopped = session(1, outcome="stopped", stopped_at="bridge", stop_reason="pain",
                      felt="worse", pain=6, source="log", length_s=200)
    with History.open(tmp_path / "h.db") as history:
        first = history.record(stopped)
        second = history.record(session(0, felt="better", pain=2))
        history.record(session(2, routine="other"))
    assert (first.id, second.id) == (1, 2)
    with History.open(tmp_path / "h.db", write=False) as history:
        mine = history.sessions("back-pain")
        assert history.routines() == ["back-pain", "other"]
        assert len(history.sessions()) == 3
    assert mine == [second, first]  # oldest first, whatever order they were recorded in
    assert mine[1].levels == (("knee rolls", 3), ("bridge", 2))
    assert mine[1].started_at == T0 + dt.timedelta(days=1)
    assert mine[1].started_at.tzinfo == UTC
    stored = sqlite3.connect(tmp_path / "h.db").execute(
        "SELECT started_at, stopped_at, stop_reason, pain FROM sessions WHERE id = 1").fetchone()
    assert stored == ("2026-11-02T18:00:00+00:00", "bridge", "pain", 6)


def test_migrations_are_applied_once_and_recorded(tmp_path):
    path = tmp_path / "h.db"
    History.open(path).close()
    History.open(path).close()
    conn = sqlite3.connect(path, isolation_level=None)
    rows = conn.execute("SELECT name, applied_at FROM _migrations ORDER BY rowid").fetchall()
    assert [name for name, _ in rows] == migrations.known_names() == ["m001_sessions", "m002_levels"]
    for _, applied_at in rows:
        assert dt.datetime.fromisoformat(applied_at).tzinfo is not None
    assert migrations.migrate(conn) == []


def test_a_new_migration_runs_on_an_old_file_and_keeps_its_sessions(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    with History.open(path) as history:
        history.record(session())

    def m003_note(conn):
        conn.execute("ALTER TABLE sessions ADD COLUMN note TEXT")
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [m003_note])
    with History.open(path) as history:
        assert len(history.sessions()) == 1
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT name FROM _migrations ORDER BY rowid").fetchall()[-1] == ("m003_note",)
    assert "note" in [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]


def test_a_failing_migration_leaves_no_trace(tmp_path, monkeypatch):
    path = tmp_path / "h.db"
    History.open(path).close()

    def m003_broken(conn):
        conn.execute("ALTER TABLE sessions ADD COLUMN half TEXT")
        raise sqlite3.OperationalError("disk I/O error")
    monkeypatch.setattr(migrations, "MIGRATIONS", migrations.MIGRATIONS + [m003_broken])
    with pytest.raises(HistoryUnavailable):
        History.open(path)
    conn = sqlite3.connect(path)
    assert "half" not in [row[1] for row in conn.execute("PRAGMA table_info(sessions)")]
    assert len(conn.execute("SELECT * FROM _migrations").fetchall()) == 2


def test_the_file_is_in_wal_mode(tmp_path):
    History.open(tmp_path / "h.db").close()
    assert sqlite3.connect(tmp_path / "h.db").execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "h.db"
    with History.open(path) as history:
        history.record(session())
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("INSERT INTO _migrations VALUES ('m999_future', '2030-01-01T00:00:00+00:00')")
    conn.close()
    before = fingerprint(path)
    for write in (True, False):
        with pytest.raises(HistoryError) as caught:
            History.open(path, write=write)
        assert str(caught.value) == (
            f"{path} was written by a newer voicecoach (schema m999_future is unknown here); "
            f"upgrade voicecoach, or move the file aside (mv {path} {path}.newer) to start a "
            "new history")
        assert not isinstance(caught.value, HistoryUnavailable)  # fatal, not a warning
    assert fingerprint(path) == before


def _malformed(path: Path) -> None:
    with History.open(path) as history:
        for day in range(300):
            history.record(session(day))
    data = bytearray(path.read_bytes())
    assert len(data) > 5 * 4096
    data[3 * 4096:3 * 4096 + 300] = b"\xff" * 300
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("damage, problem", [
    (lambda p: p.write_bytes(b"not a database at all\n" * 50), "file is not a database"),
    (_malformed, "database disk image is malformed"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE notes (text)"), "its tables are not voicecoach's"),
])
def test_a_corrupt_or_foreign_file_is_refused_and_left_unchanged(tmp_path, damage, problem):
    path = tmp_path / "h.db"
    damage(path)
    before = fingerprint(path)
    with pytest.raises(HistoryError) as caught:
        History.open(path)
    assert str(caught.value) == (
        f"the history {path} is damaged ({problem}); it was left as it is: "
        f"move it aside (mv {path} {path}.broken) and voicecoach starts a new one")
    assert fingerprint(path) == before


WRITER = """
import sys, time, datetime as dt
from pathlib import Path
from voicecoach.history.store import History, SessionRecord
path, name, count, go = sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
while not go.exists():
    time.sleep(0.001)
with History.open(path) as history:  # both open a fresh file at once: migrations race too
    for i in range(count):
        history.record(SessionRecord(name, "d", dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
                                     + dt.timedelta(minutes=i), i, {"a": i, "b": i + 1}))
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path, go, count = tmp_path / "h.db", tmp_path / "go", 150
    env = dict(os.environ, PYTHONPATH=str(REPO))
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), name, str(count), str(go)],
                                env=env, stderr=subprocess.PIPE, text=True) for name in ("one", "two")]
    go.touch()
    for writer in writers:
        assert writer.wait(timeout=60) == 0, writer.stderr.read()
    with History.open(path, write=False) as history:
        for name in ("one", "two"):
            mine = history.sessions(name)
            assert [s.length_s for s in mine] == list(range(count))
            assert all(s.levels == (("a", i), ("b", i + 1)) for i, s in enumerate(mine))
    assert sqlite3.connect(path).execute("SELECT count(*) FROM _migrations").fetchone() == (2,)


def test_an_unusable_data_dir_is_a_warning_not_a_failure(tmp_path, monkeypatch):
    (tmp_path / "a-file").write_text("")
    monkeypatch.setenv("VOICECOACH_DATA_DIR", str(tmp_path / "a-file" / "voicecoach"))
    with pytest.raises(HistoryUnavailable) as caught:
        History.open()
    assert str(caught.value).startswith("cannot use the data folder for the history: cannot "
                                        f"create the folder {tmp_path / 'a-file' / 'voicecoach'}")
    assert isinstance(caught.value, HistoryError)


OPEN_FOR_WRITING = """
import sys
from voicecoach.errors import HistoryUnavailable
from voicecoach.history.store import History
try:
    History.open(sys.argv[1])
except HistoryUnavailable as error:
    print(error)
"""


@pytest.mark.slow
def test_a_read_only_data_dir_is_unavailable(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    argv = [sys.executable, "-c", OPEN_FOR_WRITING, str(folder / FILE_NAME)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    if os.geteuid() == 0:  # root writes through chmod 0500: a read-only mount, as on a live CD
        done = run_mounted(read_only(folder), argv, env)
        reason = "is on a read-only file system"
    else:
        folder.chmod(0o500)
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        finally:
            folder.chmod(0o700)
        reason = "cannot be written (permission denied)"
    assert (done.returncode, done.stdout) == (0, f"the data folder {folder} {reason}\n"), done.stderr
    assert list(folder.iterdir()) == []


def test_reading_a_missing_history_creates_nothing(tmp_path):
    with History.open(tmp_path / "h.db", write=False) as history:
        assert history.sessions() == []
        with pytest.raises(HistoryUnavailable):
            history.record(session())
    assert not (tmp_path / "h.db").exists()


@pytest.mark.parametrize("changes, message", [
    ({"pain": 11}, "pain: must be a whole number from 0 to 10, got 11"),
    ({"pain": True}, "pain: must be a whole number from 0 to 10, got True"),
    ({"felt": "great"}, "felt: must be one of better, same, worse, unknown, got 'great'"),
    ({"outcome": "stopped"}, "stop_reason: must be one of quit, signal, error, pain, got None"),
    ({"stop_reason": "quit"}, "a completed session has no stop_reason or stopped_at"),
    ({"started_at": dt.datetime(2026, 1, 1)}, "started_at: must be a time with a time zone, "
                                              "got datetime.datetime(2026, 1, 1, 0, 0)"),
    ({"length_s": -1}, "length_s: must be 0 or more seconds, got -1.0"),
])
def test_an_invalid_session_names_its_field(changes, message):
    with pytest.raises(InputError) as caught:
        session(**changes)
    assert str(caught.value) == message


def test_when_is_parsed_as_iso_8601():
    assert parse_when("2026-03-01T18:30+01:00") == dt.datetime(2026, 3, 1, 17, 30, tzinfo=UTC)
    assert parse_when("2026-03-01T18:30").tzinfo == UTC  # read as local time
    with pytest.raises(InputError, match=r"^--when: not an ISO-8601 time, got 'yesterday'"):
        parse_when("yesterday")


def test_the_digest_is_sha256_of_the_content():
    assert content_digest("abc") == content_digest(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")


SESSIONS = [session(0, felt="same", pain=3, id=1), session(1, felt="better", id=2),
            session(2, levels={"knee rolls": 4, "bridge": 2}, felt="unknown", id=3),
            session(3, levels={"knee rolls": 4}, outcome="stopped", stopped_at="knee rolls",
                    stop_reason="pain", felt="worse", pain=6, length_s=200, id=12)]


def test_the_table_shows_date_length_felt_pain_ending_and_levels():
    assert report.table(SESSIONS, 100, UTC).splitlines() == [
        "ID  Date              Length  Felt    Pain  Ended               Levels",
        "1   2026-11-01 18:00  10:12   same    3     done                3/2",
        "2   2026-11-02 18:00  10:12   better  -     done                3/2",
        "3   2026-11-03 18:00  10:12   -       -     done                4/2",
        "12  2026-11-04 18:00  3:20    worse   6     pain in knee rolls  4/-",
        "Levels: knee rolls, bridge",
    ]


def test_the_chart_draws_levels_and_feeling():
    assert report.chart(SESSIONS, 80).splitlines() == [
        "back-pain: level and feeling, oldest to newest",
        "knee rolls ▁▁██ 3→4",
        "bridge     ▄▄▄  2",
        "felt       =+·-",
        "           + better  = same  - worse  · no answer",
    ]


@pytest.mark.parametrize("width", [12, 20, 30, 50])
def test_narrow_terminals_get_shorter_lines_not_wrapped_ones(width):
    many = [session(day, levels={"knee rolls": 2 + day // 2}) for day in range(40)]
    text = report.report(many, width, UTC)
    assert all(len(line) <= width for line in text.splitlines()), text
    assert "knee rolls" in text or "knee rol…" in text or "kn" in text


def test_a_narrow_chart_shows_the_latest_sessions():
    many = [session(day, levels={"knee rolls": 2 + day}) for day in range(40)]
    lines = report.chart(many, 30).splitlines()
    assert lines[0] == "back-pain: level and feeling,…"
    assert lines[1] == "knee rolls ▁▂▂▃▄▅▅▆▇▇█ 31→41"  # the last 11 sessions


def test_json_lists_every_session():
    listed = json.loads(json.dumps(report.as_json(SESSIONS)))
    assert len(listed) == 4
    assert listed[3] == {
        "id": 12, "routine": "back-pain", "routine_digest": content_digest("exercises: []"),
        "started_at": "2026-11-04T18:00:00+00:00", "length_s": 200.0,
        "levels": {"knee rolls": 4}, "outcome": "stopped", "stopped_at": "knee rolls",
        "stop_reason": "pain", "felt": "worse", "pain": 6, "source": "live"}


def test_no_sessions_says_so():
    assert report.report([], 80) == "No sessions recorded yet."


@pytest.mark.slow
def test_the_plot_is_a_png_written_atomically(tmp_path):
    pytest.importorskip("matplotlib")
    target = tmp_path / "chart.png"
    target.write_bytes(b"old")
    assert report.plot_png(SESSIONS, target) == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert target.stat().st_size > 10_000
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chart.png"]  # no temporary left
    with pytest.raises(ExportError, match=r"^cannot write .*missing/chart.png: "):
        report.plot_png(SESSIONS, tmp_path / "missing" / "chart.png")


def test_without_matplotlib_the_plot_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ExportError) as caught:
        report.plot_png(SESSIONS, tmp_path / "chart.png")
    assert str(caught.value) == ("drawing a chart needs matplotlib, which is not installed; "
                                 "install it with: .venv/bin/pip install '.[plot]' (in your clone of voicecoach)")
    assert not (tmp_path / "chart.png").exists()
