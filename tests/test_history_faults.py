"""The history when things go wrong: a full disk, a read-only folder, a lock held by another
program, a FIFO or a broken symlink at its path, damaged rows, Ctrl-C; and the input of
``log`` and ``--level`` that must be one line, never a traceback. Real files, real mounts,
real processes."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import cli_runner
from mounts import full_disk, read_only, run_mounted
from voicecoach.cli import cli
from voicecoach.errors import HistoryBusy, HistoryError, InputError
from voicecoach.history import entry, faults, journal
from voicecoach.history.store import FILE_NAME, History, SessionRecord
from voicecoach.routine import load_routine

REPO = Path(__file__).resolve().parent.parent
UTC = dt.timezone.utc
TINY = "title: Tiny\nexercises:\n  - name: Reach\n    cue: Reach up.\n    reps: {start: 3, max: 6}\n"

# Runs each voicecoach command given (as JSON) in a child, and reports status and output.
DRIVER = """
import json, subprocess, sys
results = []
for args in json.loads(sys.argv[1]):
    done = subprocess.run([sys.executable, "-m", "voicecoach", *args], capture_output=True,
                          text=True, timeout=60)
    results.append([done.returncode, done.stdout, done.stderr])
print(json.dumps(results))
"""


@pytest.fixture
def tiny(tmp_path) -> str:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    return str(path)


@pytest.fixture
def data(user_dirs) -> Path:
    return user_dirs / "data"


def logged(routine: str, *whens: str) -> None:
    for when in whens:
        journal.log_session(routine, "same", None, when)


def fingerprint(path: Path) -> tuple[bytes, int]:
    return path.read_bytes(), path.stat().st_mtime_ns


def env() -> dict:
    return dict(os.environ, PYTHONPATH=str(REPO))


def commands(tiny: str) -> list[list[str]]:
    return [["history"], ["plan", tiny], ["log", tiny, "--felt", "same"]]


def check_unwritable(results, data: Path, reason: str) -> None:
    """``history`` reads with a warning, ``plan`` goes on with it, ``log`` is one error."""
    (h_status, h_out, h_err), (p_status, p_out, p_err), (l_status, l_out, l_err) = results
    warning = f"Warning: {reason}: sessions are read, but a session is not recorded until it can be written"
    assert (h_status, h_err.splitlines()) == (0, [warning])
    assert "2026-11-01 18:00" in h_out and "2026-11-02 18:00" in h_out
    assert (p_status, p_err.splitlines()) == (0, [warning])
    assert p_out.startswith("Reach: 4 reps: up from 3 after 2 good sessions\n")
    assert (l_status, l_out, l_err.splitlines()) == (1, "", [f"Error: {reason}"])


@pytest.mark.slow
def test_a_full_disk_reads_warns_and_refuses_to_log_one_line(tiny, data):
    logged(tiny, "2026-11-01T18:00+00:00", "2026-11-02T18:00+00:00")
    before = (data / FILE_NAME).read_bytes()
    copy = data.parent / "after.db"
    # a real full disk: a tmpfs filled to its last byte, the history on it
    done = run_mounted(full_disk(data), [sys.executable, "-c", DRIVER + f"""
import shutil; shutil.copy({str(data / FILE_NAME)!r}, {str(copy)!r})
""", json.dumps(commands(tiny))], env())
    assert done.returncode == 0, done.stderr
    check_unwritable(json.loads(done.stdout), data,
                     f"the disk holding the history {data / FILE_NAME} is full")
    assert copy.read_bytes() == before  # nothing half-written into it


@pytest.mark.slow
def test_play_on_a_full_disk_says_the_session_is_not_recorded_and_how_to_add_it(tiny, data):
    logged(tiny, "2026-11-01T18:00+00:00")
    record = f"""
import datetime as dt
from voicecoach.history import journal
from voicecoach.routine import load_routine
print(journal.record_live({tiny!r}, load_routine({tiny!r}), outcome="completed", felt="better",
      length_s=60, started_at=dt.datetime(2026, 11, 3, 18, 0, tzinfo=dt.timezone.utc)))
"""
    done = run_mounted(full_disk(data), [sys.executable, "-c", record], dict(env(), TZ="UTC"))
    assert done.stdout.splitlines() == [
        f"Warning: the disk holding the history {data / FILE_NAME} is full; this session is not "
        f"recorded (to add it later: voicecoach log {tiny} --felt better --when 2026-11-03T18:00+00:00)"]


@pytest.mark.slow
def test_history_on_a_read_only_folder_is_read_and_log_refused(tiny, data):
    logged(tiny, "2026-11-01T18:00+00:00", "2026-11-02T18:00+00:00")
    before = fingerprint(data / FILE_NAME)
    argv = [sys.executable, "-c", DRIVER, json.dumps(commands(tiny))]
    if os.geteuid() == 0:  # root writes through chmod: a read-only mount it is
        done = run_mounted(read_only(data), argv, env())
        reason = f"the data folder {data} is on a read-only file system"
    else:
        data.chmod(0o500)
        try:
            done = subprocess.run(argv, env=env(), capture_output=True, text=True, timeout=120)
        finally:
            data.chmod(0o700)
        reason = f"the data folder {data} cannot be written (permission denied)"
    assert done.returncode == 0, done.stderr
    check_unwritable(json.loads(done.stdout), data, reason)
    assert fingerprint(data / FILE_NAME) == before


LOCKER = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


@pytest.fixture
def locked(tiny, data):
    """The history held by another program (an exclusive lock) for 30 s, or until the test ends."""
    logged(tiny, "2026-11-01T18:00+00:00")
    holder = subprocess.Popen([sys.executable, "-c", LOCKER, str(data / FILE_NAME), "30"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "locked\n"
    yield data / FILE_NAME
    holder.kill()
    holder.wait()


@pytest.mark.slow
def test_a_locked_history_is_waited_for_then_said_held_not_damaged(tiny, locked, monkeypatch):
    monkeypatch.setattr(faults, "BUSY_S", 0.5)
    line = (f"another program is using the history {locked} (waited 0.5 s); "
            "try again when it has finished")
    runner = cli_runner()
    for args in (["log", tiny], ["history"]):
        started = time.monotonic()
        result = runner.invoke(cli, args)
        assert (result.exit_code, result.stderr.splitlines()) == (1, [f"Error: {line}"]), args
        assert 0.5 <= time.monotonic() - started < 5
    planned = runner.invoke(cli, ["plan", tiny])  # goes on at the start level, with a warning
    assert (planned.exit_code, planned.stderr.splitlines()) == (0, [f"Warning: {line}"])
    assert planned.stdout.startswith("Reach: 3 reps: start level\n")
    with pytest.raises(HistoryBusy):
        History.open(locked)


@pytest.mark.slow
def test_ctrl_c_while_log_waits_for_a_lock_acts_at_once(tiny, locked):
    waiting = subprocess.Popen([sys.executable, "-m", "voicecoach", "log", tiny], env=env(),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)  # well into the wait (imports included)
    assert waiting.poll() is None
    sent = time.monotonic()
    waiting.send_signal(signal.SIGINT)
    _, err = waiting.communicate(timeout=10)
    assert time.monotonic() - sent < 0.5
    assert (waiting.returncode, err) == (130, "Stopped.\n")


# Sends itself SIGINT when ``voicecoach history`` imports the module named in argv[1].
INTERRUPTED = """
import importlib.abc, os, signal, sys
AT = sys.argv[1]
class Interrupt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == AT:
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, Interrupt())
sys.argv = ["voicecoach", "history"]
from voicecoach.cli import main
main()
"""


@pytest.mark.slow
@pytest.mark.parametrize("module", ["click", "voicecoach.history.report"])
def test_ctrl_c_during_history_is_stopped_without_a_traceback(module):
    # click: while the command line loads; report: while the history is read
    done = subprocess.run([sys.executable, "-c", INTERRUPTED, module], env=env(),
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (130, "Stopped.\n")


def run_cli(args: list[str], timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "voicecoach", *args], env=env(),
                          capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_a_fifo_at_the_history_path_is_one_error_at_once(tiny, data):
    data.mkdir(parents=True)
    os.mkfifo(data / FILE_NAME)
    line = (f"Error: the history {data / FILE_NAME} is a FIFO, not a file; remove it, or set "
            "VOICECOACH_DATA_DIR to another folder")
    for args in commands(tiny):
        done = run_cli(args)  # a hang would be a TimeoutExpired here
        assert (done.returncode, done.stderr.splitlines()) == (1, [line]), args


@pytest.mark.parametrize("link, line", [
    ("gone.db", "is a symlink to {folder}/gone.db, which does not exist (a disk not mounted?); "
                "mount it, or remove the link"),
    (FILE_NAME, "is a symlink that loops; remove the link or make it point to the history file"),
])
def test_a_broken_symlink_is_an_error_not_an_empty_history(tiny, data, link, line):
    data.mkdir(parents=True)
    (data / FILE_NAME).symlink_to(data / link)
    runner = cli_runner()
    for args in commands(tiny):
        result = runner.invoke(cli, args)
        assert (result.exit_code, result.stderr.splitlines()) == (
            1, [f"Error: the history {data / FILE_NAME} " + line.format(folder=data)]), args
    assert not (data / "gone.db").exists()


def damage_row(sql: str):
    def damage(path: Path) -> None:
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA ignore_check_constraints = ON")  # as another program might
        conn.execute(sql)
        conn.close()
    return damage


@pytest.mark.parametrize("damage, problem", [
    (damage_row("UPDATE sessions SET started_at = 'yesterday'"),
     "session 1: started_at is not a time: 'yesterday'"),
    (damage_row("UPDATE sessions SET felt = 'great'"),
     "session 1: felt: must be one of better, same, worse, unknown, got 'great'"),
    (damage_row("DROP TABLE levels"), "the table levels is missing"),
    (damage_row("ALTER TABLE sessions DROP COLUMN pain"), "no such column: pain"),
])
def test_a_damaged_history_is_one_line_naming_it_in_every_command(tiny, data, damage, problem):
    logged(tiny, "2026-11-01T18:00+00:00")
    path = data / FILE_NAME
    damage(path)
    before = fingerprint(path)
    runner = cli_runner()
    for args in commands(tiny) + [["history", "--json"], ["history", "--delete", "1"]]:
        result = runner.invoke(cli, args)
        assert (result.exit_code, result.stderr.splitlines()) == (1, [
            f"Error: the history {path} is damaged ({problem}); it was left as it is: move it "
            f"aside (mv {path} {path}.broken) and voicecoach starts a new one"]), args
    assert fingerprint(path) == before


def test_a_newer_user_version_is_refused_and_never_written(data):
    with History.open() as history:
        history.record(SessionRecord("r", "d", dt.datetime(2026, 11, 1, tzinfo=UTC), 1))
    path = data / FILE_NAME
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    before = fingerprint(path)
    for write in (True, False):
        with pytest.raises(HistoryError, match=r"was written by a newer voicecoach \(schema "
                                               r"version 7 is unknown here\)"):
            History.open(path, write=write)
    assert fingerprint(path) == before
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (7,)


def test_the_schema_version_is_recorded(data):
    History.open().close()
    assert sqlite3.connect(data / FILE_NAME).execute("PRAGMA user_version").fetchone() == (2,)


def test_the_history_is_private_whatever_the_umask_and_folder(tmp_path):
    folder = tmp_path / "open"
    folder.mkdir()
    folder.chmod(0o777)
    old = os.umask(0o000)
    try:
        with History.open(folder / FILE_NAME) as history:
            history.record(SessionRecord("r", "d", dt.datetime(2026, 11, 1, tzinfo=UTC), 1))
            modes = {p.name: p.stat().st_mode & 0o777 for p in folder.iterdir()}
    finally:
        os.umask(old)
    assert modes == {FILE_NAME: 0o600, f"{FILE_NAME}-wal": 0o600, f"{FILE_NAME}-shm": 0o600}


def test_a_history_readable_by_others_is_tightened_saying_so(tmp_path):
    path = tmp_path / FILE_NAME
    History.open(path).close()
    path.chmod(0o644)
    notes = []
    History.open(path, warn=notes.append).close()
    assert path.stat().st_mode & 0o777 == 0o600
    assert notes == [f"Note: the history {path} could be read by other users (mode 0644); "
                     "it is now 0600, yours only"]
    History.open(path, warn=notes.append).close()
    assert len(notes) == 1  # said once


def test_history_finds_a_routine_file_by_the_name_the_table_shows(tiny, tmp_path):
    logged(tiny, "2026-11-01T18:00+00:00")
    runner = cli_runner()
    shown = runner.invoke(cli, ["history"]).stdout
    assert "tiny: level and feeling" in shown
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    os.chdir(elsewhere)  # not the folder of tiny.yaml: found by its shown name alone
    try:
        by_name = runner.invoke(cli, ["history", "tiny", "--json"])
        assert [s["routine"] for s in json.loads(by_name.stdout)] == [str(Path(tiny).resolve())]
        assert json.loads(runner.invoke(cli, ["history", "tiny.yaml", "--json"]).stdout)
        assert runner.invoke(cli, ["history", "nothing"]).stdout == "No sessions of nothing recorded yet.\n"
        other = elsewhere / "tiny.yaml"
        other.write_text(TINY)
        logged(str(other), "2026-11-02T18:00+00:00")
        both = runner.invoke(cli, ["history", "tiny"])
    finally:
        os.chdir(REPO)
    assert (both.exit_code, both.stderr.splitlines()) == (2, [
        f"Error: tiny: more than one routine has this name in the history "
        f"({other}, {Path(tiny).resolve()}); give the file's path"] if str(other) < tiny else [
        f"Error: tiny: more than one routine has this name in the history "
        f"({Path(tiny).resolve()}, {other}); give the file's path"])


def test_a_wrong_entry_is_deleted_by_its_id(tiny):
    logged(tiny, "2026-11-01T18:00+00:00", "2026-11-02T18:00+00:00")
    runner = cli_runner()
    table = runner.invoke(cli, ["history"]).stdout.splitlines()
    assert table[0].startswith("ID  Date")
    assert table[2].startswith("2   2026-11-02 ")
    deleted = runner.invoke(cli, ["history", "--delete", "2"], env={"TZ": "UTC"})
    assert (deleted.exit_code, deleted.stdout) == (
        0, "Deleted session 2: tiny, 2026-11-02 18:00, felt same, done\n")
    assert [s["id"] for s in json.loads(runner.invoke(cli, ["history", "--json"]).stdout)] == [1]
    for args, line in [
        (["history", "--delete", "2"], "Error: --delete: there is no session 2 in the history "
                                       "(the ID column of 'voicecoach history' lists them)"),
        (["history", "back-pain", "--delete", "1"], "Error: --delete: there is no session 1 of "
         "back-pain in the history (the ID column of 'voicecoach history' lists them)"),
        (["history", "--delete", "²"], "Error: --delete: must be a session's ID (a whole number "
                                       "from the ID column of 'voicecoach history'), got '²'"),
    ]:
        result = runner.invoke(cli, args)
        assert (result.exit_code, result.stderr.splitlines()) == (2, [line]), args
    with History.open(write=False) as history:
        assert len(history.sessions()) == 1


@pytest.mark.slow  # plan speaks with espeak-ng
def test_good_sessions_logged_before_a_later_one_are_explained(tiny):
    # played today at 3 (no answer at the check-in), then two good sessions logged as done
    # on earlier days: they earn 4, but the level follows the session played since, at 3
    assert journal.record_live(tiny, load_routine(tiny), started_at=dt.datetime.now(UTC), length_s=60,
                               outcome="completed") is None
    runner = cli_runner()
    for args in (["--felt", "better", "--when", "2026-11-01T18:00"],
                 ["--felt", "same", "--pain", "2", "--when", "2026-11-02T18:00"]):
        assert runner.invoke(cli, ["log", tiny, *args]).exit_code == 0
    result = runner.invoke(cli, ["plan", tiny])
    assert result.exit_code == 0, result.stderr
    planned = result.stdout.splitlines()[0]
    assert planned == ("Reach: 3 reps: as in the last session, played at 3 where 4 was due "
                       "(not counted; 0 of 2 good sessions at 3)")


NOW = dt.datetime(2026, 12, 4, 18, 0, tzinfo=UTC)
HUGE = "2" * 100_000


@pytest.mark.parametrize("when, message", [
    ("0001-01-01T00:00", "--when: 0001-01-01T00:00 is before 2000; give the time you started"),
    ("0001-01-01T00:00+01:00", "--when: 0001-01-01T00:00+01:00 is before 2000; give the time you started"),
    ("1999-12-31T23:59+00:00", "--when: 1999-12-31T23:59+00:00 is before 2000; give the time you started"),
    ("9999-12-31T23:59", "--when: 9999-12-31T23:59 is in the future (it is now {now}); give the time "
                         "you started"),
    ("9999-12-31T23:59-23:59", "--when: 9999-12-31T23:59-23:59 is in the future (it is now {now}); "
                               "give the time you started"),
    ("2026-12-04T18:02+00:00", "--when: 2026-12-04T18:02+00:00 is in the future (it is now {now}); "
                               "give the time you started"),
    (HUGE, "--when: not an ISO-8601 time, got '" + "2" * 37 + "...' "
           "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)"),
])
def test_a_when_out_of_range_is_one_line(when, message):
    with pytest.raises(InputError) as caught:
        entry.parse_when(when, now=NOW)
    assert str(caught.value) == message.format(now=f"{NOW.astimezone():%Y-%m-%d %H:%M}")


def test_a_when_up_to_a_minute_ahead_is_a_clock_difference():
    assert entry.parse_when("2026-12-04T18:01+00:00", now=NOW) == NOW + dt.timedelta(minutes=1)


@pytest.fixture
def berlin(monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_a_local_time_the_clock_skipped_or_showed_twice_is_refused(berlin):
    with pytest.raises(InputError) as gap:
        entry.parse_when("2026-03-29T02:30", now=NOW)
    assert str(gap.value) == ("--when: 2026-03-29T02:30 did not happen on your clock (it was moved "
                              "forward past it); give the time with its offset, e.g. "
                              "2026-03-29T02:30+01:00")
    with pytest.raises(InputError) as twice:
        entry.parse_when("2026-10-25T02:30", now=NOW)
    assert str(twice.value) == ("--when: 2026-10-25T02:30 happened twice on your clock (it was moved "
                                "back); say which with its offset: 2026-10-25T02:30+02:00 or "
                                "2026-10-25T02:30+01:00")
    assert entry.parse_when("2026-10-25T02:30+01:00", now=NOW) == dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert entry.parse_when("2026-07-01T18:00", now=NOW) == dt.datetime(2026, 7, 1, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize("args, line", [
    (["log", "{r}", "--pain", "²"], "Error: --pain: must be a whole number from 0 to 10, got ²"),
    (["log", "{r}", "--pain", "٣"], "Error: --pain: must be a whole number from 0 to 10, got ٣"),
    (["log", "{r}", "--pain", "9" * 5000], "Error: --pain: must be a whole number from 0 to 10, got "
                                           + "9" * 37 + "..."),
    (["log", "{r}", "--when", HUGE], "Error: --when: not an ISO-8601 time, got '" + "2" * 37 + "...' "
                                     "(example: 2026-03-01T18:30 or 2026-03-01T18:30+01:00)"),
    (["log", "{r}", "--when", "0001-01-01T00:00"], "Error: --when: 0001-01-01T00:00 is before 2000; "
                                                   "give the time you started"),
    (["plan", "{r}", "--level", "9" * 5000], "Error: --level: must be 'fresh' or a whole number of "
                                             "repetitions up to 100, got '" + "9" * 37 + "...'"),
    (["plan", "{r}", "--level", "३"], "Error: --level: must be 'fresh' or a whole number of "
                                      "repetitions, got '३'"),
    (["plan", "{r}", "--level", "101"], "Error: --level: must be 'fresh' or a whole number of "
                                        "repetitions up to 100, got '101'"),
])
def test_bad_numbers_and_times_are_one_line_exit_2(tiny, args, line):
    result = cli_runner().invoke(cli, [a.format(r=tiny) for a in args])
    assert (result.exit_code, result.stderr.splitlines()) == (2, [line])
    with History.open(write=False) as history:
        assert history.sessions() == []


def test_ascii_numbers_in_range_are_taken():
    assert entry.parse_pain(" 3") == 3 and entry.parse_pain("010") == 10 and entry.parse_pain("0") == 0
    assert journal.parse_level("100") == 100 and journal.parse_level("007") == 7


def test_a_fifo_for_the_saved_places_is_one_warning_not_a_hang(user_dirs):
    from voicecoach.history.places import FILE_NAME as PLACES, Places
    (user_dirs / "state").mkdir()
    os.mkfifo(user_dirs / "state" / PLACES)
    warnings = []
    places = Places("back-pain", warn=warnings.append)
    assert places.saved() is None
    places.save(1, "Cat-cow")  # kept nowhere, and said once
    assert warnings == [f"Warning: the saved places {user_dirs / 'state' / PLACES} are not a file; "
                        "no place is kept"]
