"""``voicecoach remind``: the unit files' content, checked by systemd's own
``systemd-analyze verify``; the install, list and remove flow against a fake ``systemctl``
on PATH that records its calls (no machine of ours runs a systemd user session); the real
no-systemd path; the ``.ics`` read back by ``icalendar``; the notification's action with a
fake ``notify-send``. What was never tried on a real systemd is said in docs/programme.md."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from voicecoach.cli import cli
from voicecoach.programme import notify
from voicecoach.programme.ics import ics_text
from voicecoach.programme.reminders import Reminder, parse_at, parse_days, unit_name
from voicecoach.programme.systemd import exec_quote, service_text, timer_text

from support import cli_runner

ROOT = Path(__file__).resolve().parent.parent
CI = bool(os.environ.get("CI"))


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """A home and config folder of the test's own: units go nowhere real."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "home" / ".config"))
    return tmp_path / "home" / ".config" / "systemd" / "user"


@pytest.fixture
def fake_systemctl(tmp_path, monkeypatch):
    """A ``systemctl`` first on PATH: appends its arguments to calls.log, answers 0, or 1
    for the subcommand named in the file ``fail`` beside it."""
    folder = tmp_path / "bin"
    folder.mkdir()
    script = folder / "systemctl"
    script.write_text(f"""#!/bin/sh
echo "$*" >> {folder}/calls.log
if [ -f {folder}/fail ] && [ "$2" = "$(cat {folder}/fail)" ]; then
  echo "Failed to $2: Unit not found." >&2; exit 1
fi
exit 0
""")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    return folder


def calls(folder: Path) -> list[str]:
    log = folder / "calls.log"
    return log.read_text().splitlines() if log.exists() else []


def run(*args):
    return cli_runner().invoke(cli, ["remind", *args])


# -- the words -------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [("08:00", (8, 0)), ("7:05", (7, 5)), ("23:59", (23, 59)),
                                            ("00:00", (0, 0))])
def test_a_time_of_day(text, expected):
    assert parse_at(text) == expected


def test_days_in_week_order():
    assert parse_days("fri,mon, WED") == ("mon", "wed", "fri")
    assert len(parse_days(None)) == 7


def test_the_timer_and_service():
    reminder = Reminder("back-pain", 8, 0, ("mon", "wed", "fri"))
    timer = timer_text(reminder)
    assert "OnCalendar=Mon,Wed,Fri *-*-* 08:00:00\n" in timer
    assert "Persistent=true\n" in timer and "WantedBy=timers.target\n" in timer
    assert "Unit=voicecoach-remind-back-pain.service\n" in timer
    assert timer.startswith("# voicecoach-routine: back-pain\n")
    assert "OnCalendar=*-*-* 07:30:00\n" in timer_text(Reminder("back-pain", 7, 30))
    service = service_text(reminder, python="/opt/venv/bin/python")
    assert ('ExecStart="/opt/venv/bin/python" "-m" "voicecoach.programme.notify" "back-pain"\n'
            in service)


def test_exec_start_takes_odd_names_literally():
    assert exec_quote('my back 100% $HOME "x"') == '"my back 100%% $$HOME \\"x\\""'


def test_unit_names_are_safe_and_tell_files_apart():
    assert unit_name("back-pain") == "voicecoach-remind-back-pain"
    one, two = unit_name("/a/my back.yaml"), unit_name("/b/my back.yaml")
    assert one.startswith("voicecoach-remind-my-back-") and one != two


SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


@pytest.mark.slow
@pytest.mark.skipif(SYSTEMD_ANALYZE is None and not CI, reason="systemd-analyze is not installed (CI installs it)")
def test_systemd_itself_accepts_the_units(tmp_path):
    """systemd's own parser: a unit it would ignore a line of, or refuse, fails here."""
    folder = tmp_path / "units"
    folder.mkdir()
    reminder = Reminder(str(tmp_path / "my back 100%.yaml"), 8, 0, ("mon", "wed", "fri"))
    name = unit_name(reminder.routine)
    (folder / f"{name}.timer").write_text(timer_text(reminder))
    (folder / f"{name}.service").write_text(service_text(reminder))
    runtime = tmp_path / "runtime"  # systemd-analyze --user wants one; no user session needed
    runtime.mkdir(mode=0o700)
    done = subprocess.run([SYSTEMD_ANALYZE, "--user", "verify", f"{name}.timer", f"{name}.service"],
                          cwd=folder, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert (done.returncode, done.stderr) == (0, "")
    # and it does refuse a bad one, so the check above means something
    (folder / f"{name}.timer").write_text(timer_text(reminder).replace("08:00:00", "25:00:00"))
    bad = subprocess.run([SYSTEMD_ANALYZE, "--user", "verify", f"{name}.timer"], cwd=folder,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "XDG_RUNTIME_DIR": str(runtime)})
    assert bad.returncode != 0 and "calendar" in bad.stderr


# -- install, list, remove ---------------------------------------------------------------------

def test_install_list_and_remove(fake_systemctl, own_home):
    done = run("back-pain", "--at", "08:00", "--days", "mon,wed,fri")
    assert done.exit_code == 0, done.output
    timer = own_home / "voicecoach-remind-back-pain.timer"
    assert done.stdout == (f"Reminder set for back-pain on Mon, Wed, Fri at 08:00 ({timer}); "
                           "remove it with: voicecoach remind --off back-pain\n")
    assert sorted(p.name for p in own_home.iterdir()) == [
        "voicecoach-remind-back-pain.service", "voicecoach-remind-back-pain.timer"]
    assert calls(fake_systemctl) == ["--user show-environment", "--user daemon-reload",
                                     "--user enable voicecoach-remind-back-pain.timer",
                                     "--user restart voicecoach-remind-back-pain.timer"]
    listed = run("--list")
    assert listed.stdout == ("back-pain: Mon,Wed,Fri *-*-* 08:00:00 "
                             "(voicecoach-remind-back-pain.timer)\n")
    (fake_systemctl / "calls.log").unlink()
    removed = run("--off", "back-pain")
    assert (removed.exit_code, removed.stdout) == (0, "Removed the reminder for back-pain.\n")
    assert list(own_home.iterdir()) == []  # no unit file left behind
    assert calls(fake_systemctl) == ["--user show-environment",
                                     "--user disable --now voicecoach-remind-back-pain.timer",
                                     "--user daemon-reload"]
    assert run("--list").stdout == "No reminders.\n"


def test_a_failed_enable_leaves_nothing_behind(fake_systemctl, own_home):
    (fake_systemctl / "fail").write_text("enable")
    done = run("back-pain", "--at", "08:00")
    assert done.exit_code == 1
    assert done.stderr == ("Error: systemctl --user enable voicecoach-remind-back-pain.timer failed: "
                           "Failed to enable: Unit not found.; no reminder was left behind\n")
    assert list(own_home.iterdir()) == []


@pytest.mark.parametrize("args, message", [
    (["back-pain", "--at", "25:00"], "--at: not a time of day from 00:00 to 23:59, got '25:00'"),
    (["back-pain", "--at", "8am"], "--at: not a time of day from 00:00 to 23:59, got '8am'"),
    (["back-pain"], "--at: give the time of day to be reminded, e.g. --at 08:00"),
    (["back-pain", "--at", "08:00", "--days", "mon,fry"],
     "--days: unknown day 'fry'; use mon, tue, wed, thu, fri, sat, sun, e.g. --days mon,wed,fri"),
    (["no-such-routine", "--at", "08:00"], None),
    (["--off", "back-pain"], "no reminder for back-pain; voicecoach remind --list shows them"),
    (["back-pain", "--at", "08:00", "--ics", "r.txt"], "--ics: the file must end in .ics, got 'r.txt'"),
    (["back-pain", "--at", "08:00", "--ics", "nowhere/r.ics"], "--ics: the folder 'nowhere' does not exist"),
])
def test_bad_input_is_one_line_and_installs_nothing(fake_systemctl, own_home, tmp_path, monkeypatch,
                                                    args, message):
    monkeypatch.chdir(tmp_path)
    done = run(*args)
    assert done.exit_code == 2
    assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("Error: ")
    if message is not None:
        assert done.stderr == f"Error: {message}\n"
    assert not own_home.exists() or list(own_home.iterdir()) == []
    assert [c for c in calls(fake_systemctl) if c != "--user show-environment"] == []
    assert not list(tmp_path.glob("*.ics"))


def test_without_systemd_one_line_and_the_ics_alternative(own_home, tmp_path, monkeypatch):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no systemctl at all
    done = run("back-pain", "--at", "08:00", "--days", "mon,wed,fri")
    assert done.exit_code == 1
    assert done.stderr == ("Error: systemd is not here (no systemctl), so no reminder was set; for a "
                           "phone's calendar instead: voicecoach remind back-pain --at 08:00 --days "
                           "mon,wed,fri --ics back-pain.ics\n")
    assert not own_home.exists()


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("systemctl") is None, reason="no systemctl here")
def test_the_real_systemctl_without_a_user_session(own_home, tmp_path, monkeypatch):
    """This machine's and CI's containers have systemctl but no systemd running: the real
    answer of ``systemctl --user`` must give the line, not a traceback or a half install."""
    if subprocess.run(["systemctl", "--user", "show-environment"], capture_output=True,
                      timeout=30).returncode == 0:
        pytest.skip("a systemd user session is running here")
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "no-runtime"))
    done = run("back-pain", "--at", "08:00")
    assert done.exit_code == 1
    assert done.stderr.startswith("Error: there is no systemd user session here (systemctl --user "
                                  "cannot reach it), so no reminder was set; for a phone's calendar "
                                  "instead: voicecoach remind back-pain --at 08:00 --ics back-pain.ics")
    assert not own_home.exists()


# -- the calendar file ------------------------------------------------------------------------------

def test_the_ics_reads_back_as_a_recurring_event(tmp_path, own_home):
    icalendar = pytest.importorskip("icalendar")
    out = tmp_path / "back.ics"
    done = run("back-pain", "--at", "07:30", "--days", "tue,thu", "--ics", str(out))
    assert (done.exit_code, done.stdout) == (0, f"Wrote {out} (on Tue, Thu at 07:30)\n")
    event = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")[0]
    assert str(event["summary"]) == "Exercise: Gentle back routine"
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, start.tzinfo) == (7, 30, None)  # floating: local wherever
    assert start.strftime("%a") in ("Tue", "Thu") and start.date() >= dt.date.today()
    assert event["rrule"]["FREQ"] == ["WEEKLY"] and event["rrule"]["BYDAY"] == ["TU", "TH"]
    assert event.walk("VALARM")[0]["action"] == "DISPLAY"
    assert not own_home.exists()  # a calendar file installs nothing


def test_every_day_is_a_daily_rule():
    icalendar = pytest.importorskip("icalendar")
    text = ics_text(Reminder("back-pain", 8, 0), "Back", today=dt.date(2026, 12, 4))
    event = icalendar.Calendar.from_ical(text).walk("VEVENT")[0]
    assert event["rrule"]["FREQ"] == ["DAILY"]
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 4, 8, 0)


# -- the notification ---------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("answer, started", [("start", True), ("", False)])
def test_the_notification_starts_the_session_when_its_action_is_chosen(tmp_path, answer, started):
    """The service's own command, as a process, with a fake notify-send (answering as a
    desktop would: the action's name, or nothing when closed) and a fake terminal."""
    bin_ = tmp_path / "bin"
    bin_.mkdir()
    for name, says in (("notify-send", answer), ("x-terminal-emulator", "")):
        script = bin_ / name
        script.write_text(f'#!/bin/sh\nfor a in "$@"; do echo "$a"; done > {bin_}/{name}.args\n'
                          f'echo "{says}"\n')
        script.chmod(0o755)
    env = {**os.environ, "PATH": f"{bin_}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-m", "voicecoach.programme.notify", "back-pain"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    asked = (bin_ / "notify-send.args").read_text().splitlines()
    assert asked == ["--app-name=voicecoach", "--action=start=Start now",
                     "Time for your exercises: Gentle back routine", "voicecoach play back-pain"]
    terminal = bin_ / "x-terminal-emulator.args"
    assert terminal.exists() == started
    if started:
        assert terminal.read_text().splitlines() == ["-e", sys.executable, "-m", "voicecoach",
                                                     "play", "back-pain"]


def test_without_a_terminal_the_session_starts_on_its_own():
    assert notify.session_command("back-pain", which=lambda name: None) == [
        sys.executable, "-m", "voicecoach", "play", "back-pain"]


def test_off_removes_the_files_even_without_systemd(own_home, tmp_path, monkeypatch):
    own_home.mkdir(parents=True)
    reminder = Reminder("back-pain", 8, 0)
    (own_home / "voicecoach-remind-back-pain.timer").write_text(timer_text(reminder))
    (own_home / "voicecoach-remind-back-pain.service").write_text(service_text(reminder))
    (tmp_path / "empty-bin").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    assert run("--off", "back-pain").exit_code == 0
    assert list(own_home.iterdir()) == []
